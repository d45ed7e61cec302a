//! Get Many: Return All, Limit and the Filters, and the multiple choices they hold.

use super::resource::join_or;
use super::*;

/// Get Many's Return All, Limit and Filters.
pub(super) fn parse_list_plan(item: &RawItem) -> Result<ListPlan, Error> {
    let return_all = match item.return_all.as_ref().map(coerce::boolean).as_deref() {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => {
            let other = item.return_all.as_ref().unwrap_or(&Value::Null);
            return Err(invalid(
                RETURN_ALL,
                format!("must be true or false, got {}", describe_value(other)),
            ));
        }
    };
    let limit = if return_all {
        None
    } else {
        Some(match item.limit.as_ref().map(coerce::number).as_deref() {
            None => DEFAULT_LIMIT as usize,
            // n8n gives the default when the field is left alone: null is an expression's.
            Some(Value::Null) => {
                return Err(invalid(
                    LIMIT,
                    "the expression gave no value (null); give a whole number of at least 1, or turn on Return All".into(),
                ))
            }
            Some(Value::Number(number)) => match number.as_u64() {
                Some(n) if n >= 1 => usize::try_from(n).unwrap_or(usize::MAX),
                _ => {
                    return Err(invalid(
                        LIMIT,
                        format!(
                            "{} is not a whole number of at least 1",
                            number_text(number)
                        ),
                    ))
                }
            },
            Some(_) => {
                return Err(invalid(
                    LIMIT,
                    format!(
                        "must be a whole number of at least 1, got {}",
                        describe_value(item.limit.as_ref().unwrap_or(&Value::Null))
                    ),
                ))
            }
        })
    };
    let empty = Map::new();
    let filters = match item.filters.as_ref() {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(invalid(
                FILTERS,
                format!(
                    "must be a collection of filters, got {}",
                    describe_value(other)
                ),
            ))
        }
    };
    Ok(ListPlan {
        limit,
        statuses: parse_choices(
            filters.get(STATUS_FILTER.name),
            STATUS_FILTER,
            &NUMBER_STATUSES,
        )?,
        session_statuses: parse_choices(
            filters.get(SESSION_STATUS_FILTER.name),
            SESSION_STATUS_FILTER,
            &SESSION_STATUSES,
        )?,
    })
}

/// A multi-choice filter: a list of known values (or one value, from an expression).
pub fn parse_choices(
    value: Option<&Value>,
    field: Field,
    known: &[&str],
) -> Result<Vec<String>, Error> {
    let items: Vec<&Value> = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    };
    items
        .into_iter()
        .map(|item| match item.as_str() {
            Some(choice) if known.contains(&choice) => Ok(choice.to_string()),
            _ => Err(invalid(
                field,
                format!("{} is not one of {}", describe_value(item), join_or(known)),
            )),
        })
        .collect()
}
