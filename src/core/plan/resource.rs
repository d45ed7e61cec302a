//! Resource and Operation: which of the node's actions an item asks for.

use super::*;

/// The two resources.
pub(super) enum Resource {
    Session,
    Number,
}

pub(super) fn parse_resource(resource: Option<&Value>) -> Result<Resource, Error> {
    match resource {
        None | Some(Value::Null) => Ok(Resource::Session),
        Some(Value::String(value)) if value == SESSION_RESOURCE => Ok(Resource::Session),
        Some(Value::String(value)) if value == NUMBER_RESOURCE => Ok(Resource::Number),
        Some(other) => Err(invalid(
            RESOURCE,
            format!(
                "{} is not a known resource; use {SESSION_RESOURCE} or {NUMBER_RESOURCE}",
                describe_value(other)
            ),
        )),
    }
}

pub(super) fn parse_read_operation(operation: Option<&Value>) -> Result<ReadOperation, Error> {
    let known = ReadOperation::KNOWN_VALUES;
    match operation {
        None | Some(Value::Null) => Err(invalid(OPERATION, format!("is missing; use {known}"))),
        Some(value) => value
            .as_str()
            .and_then(ReadOperation::from_value)
            .ok_or_else(|| {
                invalid(
                    OPERATION,
                    format!(
                        "{} is not an operation of the WhatsApp Number resource; use {known}",
                        describe_value(value)
                    ),
                )
            }),
    }
}

pub(super) fn parse_operation(operation: Option<&Value>) -> Result<Operation, Error> {
    let known = Operation::KNOWN_VALUES;
    let value = match operation {
        None | Some(Value::Null) => {
            return Err(invalid(OPERATION, format!("is missing; use {known}")))
        }
        Some(Value::String(value)) if value == CUSTOM_API_CALL => {
            return Err(invalid(
                OPERATION,
                "Custom API Call is not run by this node; for a call the node does not offer, use an HTTP Request node with Authentication: Predefined Credential Type and Credential Type: SparkBot API"
                    .to_string(),
            ))
        }
        Some(value) => value,
    };
    value
        .as_str()
        .and_then(Operation::from_value)
        .ok_or_else(|| {
            invalid(
                OPERATION,
                format!(
                    "{} is not a known operation; use {known}",
                    describe_value(value)
                ),
            )
        })
}

/// `a, b or c`.
pub(super) fn join_or(words: &[&str]) -> String {
    let mut text = String::new();
    for (index, word) in words.iter().enumerate() {
        if index > 0 {
            text.push_str(if index + 1 == words.len() {
                " or "
            } else {
                ", "
            });
        }
        text.push_str(word);
    }
    text
}
