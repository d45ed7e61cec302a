//! The options of Reboot Session and Reset Session: the body's switches, Timeout, Retry,
//! Include Attempt Count — and Concurrency, one value for the whole run.

use super::*;

/// How many items a node execution sends at once: the Concurrency option of the first item (it
/// applies to the whole run, not to an item). Absent means 1, one after another.
pub fn parse_concurrency(options: Option<&Value>) -> Result<usize, Error> {
    let value = match options {
        Some(Value::Object(map)) => map.get(CONCURRENCY.name),
        _ => None,
    };
    let expected = format!("a whole number from 1 to {MAX_CONCURRENCY}");
    match value.map(coerce::number).as_deref() {
        None | Some(Value::Null) => Ok(1),
        Some(Value::Number(number)) => match (number.as_u64(), number.as_f64()) {
            (Some(n @ 1..=MAX_CONCURRENCY), _) => Ok(n as usize),
            (None, Some(n)) if n.fract() != 0.0 => Err(invalid(
                CONCURRENCY,
                format!("{} is not a whole number; use {expected}", float_text(n)),
            )),
            _ => Err(invalid(
                CONCURRENCY,
                format!("{} is out of range; use {expected}", number_text(number)),
            )),
        },
        Some(_) => Err(invalid(
            CONCURRENCY,
            format!(
                "must be {expected}, got {}",
                describe_value(value.unwrap_or(&Value::Null))
            ),
        )),
    }
}

/// The operation's options, mapped onto the request body.
pub(super) struct ParsedOptions {
    /// Every body field of the operation (wire name, value), in the operation's order.
    pub(super) fields: Vec<(&'static str, bool)>,
    pub(super) timeout_secs: Option<f64>,
    pub(super) retry: bool,
    pub(super) report_attempts: bool,
}

impl ParsedOptions {
    pub(super) fn is_on(&self, wire_field: &str) -> bool {
        self.fields
            .iter()
            .any(|&(field, on)| field == wire_field && on)
    }

    /// The request body: every field of the operation, e.g. `{"force":false,"sync":true,"wait":false}`.
    /// The names are fixed identifiers and the values booleans, so nothing needs escaping.
    pub(super) fn body(&self) -> String {
        let mut body = String::from("{");
        for (index, (field, on)) in self.fields.iter().enumerate() {
            if index > 0 {
                body.push(',');
            }
            body.push_str(&format!("\"{field}\":{on}"));
        }
        body.push('}');
        body
    }
}

pub(super) fn parse_options(
    operation: Operation,
    options: Option<&Value>,
) -> Result<ParsedOptions, Error> {
    let empty = Map::new();
    let given = match options {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(invalid(
                OPTIONS,
                format!(
                    "must be a collection of options, got {}",
                    describe_value(other)
                ),
            ))
        }
    };
    let flag = |name: &str, display_name: &str, default: bool| match given
        .get(name)
        .map(coerce::boolean)
        .as_deref()
    {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(value)) => Ok(*value),
        Some(_) => Err(Error::invalid_parameter(
            display_name,
            format!(
                "must be true or false, got {}",
                describe_value(given.get(name).unwrap_or(&Value::Null))
            ),
        )),
    };
    let mut fields = Vec::with_capacity(operation.options().len());
    for option in operation.options() {
        fields.push((
            option.wire_field,
            flag(option.field.name, option.field.display_name, false)?,
        ));
    }
    let retry = flag(RETRY.name, RETRY.display_name, true)?;
    let report_attempts = flag(INCLUDE_ATTEMPTS.name, INCLUDE_ATTEMPTS.display_name, false)?;
    let timeout_secs = match given.get(TIMEOUT.name).map(coerce::number).as_deref() {
        None | Some(Value::Null) => None,
        Some(Value::Number(number)) => match number.as_f64() {
            Some(0.0) => None,
            Some(secs) if secs > 0.0 && secs <= MAX_TIMEOUT_SECS as f64 => Some(secs),
            _ => {
                return Err(invalid(
                    TIMEOUT,
                    format!(
                        "{} is out of range; use 0 (automatic) or a number of seconds up to {MAX_TIMEOUT_SECS}",
                        number_text(number)
                    ),
                ))
            }
        },
        Some(_) => {
            return Err(invalid(
                TIMEOUT,
                format!(
                    "must be a number of seconds, got {}",
                    describe_value(given.get(TIMEOUT.name).unwrap_or(&Value::Null))
                ),
            ))
        }
    };
    Ok(ParsedOptions {
        fields,
        timeout_secs,
        retry,
        report_attempts,
    })
}
