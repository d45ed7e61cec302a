//! The two operations and their options, as data.
//!
//! The node description (`crate::description`) and the request planner ([`crate::plan`]) both
//! read these tables, so a parameter name, its wire field and its text cannot drift apart.

/// Seconds the node waits without Wait For Session.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
/// Margin added to the service's wait window for the network.
pub const WAIT_MARGIN_SECS: u64 = 15;
/// Largest Timeout a user may set. Node's `fetch` (undici) gives up on its own after 300 s
/// without response headers, so a larger budget could not be honoured.
pub const MAX_TIMEOUT_SECS: u64 = 300;
/// Largest Concurrency a user may set.
pub const MAX_CONCURRENCY: u64 = 50;

/// A parameter (or credential field) as n8n stores it and as the user reads it. Every label is
/// defined once, here: the planner's messages, the generated description and the boundary's
/// reading all use these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Name in the node's parameters (camelCase).
    pub name: &'static str,
    /// Title Case label, as messages name the field.
    pub display_name: &'static str,
}

impl Field {
    /// The field stored as `name` and shown as `display_name`.
    pub const fn new(name: &'static str, display_name: &'static str) -> Self {
        Self { name, display_name }
    }
}

/// The resource selector.
pub const RESOURCE: Field = Field::new("resource", "Resource");
/// The operation selector.
pub const OPERATION: Field = Field::new("operation", "Operation");
/// The WhatsApp number acted on.
pub const DEVICE: Field = Field::new("device", "WhatsApp Number");
/// The operation's options collection.
pub const OPTIONS: Field = Field::new("options", "Options");
/// The Timeout option, shared by both operations.
pub const TIMEOUT: Field = Field::new("timeout", "Timeout (Seconds)");
/// The Retry option, shared by both operations. Named apart from n8n's own Retry On Fail
/// setting, which runs the whole node again.
pub const RETRY: Field = Field::new("retry", "Retry Refused Requests");
/// The Include Attempt Count option, shared by both operations.
pub const INCLUDE_ATTEMPTS: Field = Field::new("includeAttempts", "Include Attempt Count");
/// The Concurrency option, shared by both operations.
pub const CONCURRENCY: Field = Field::new("concurrency", "Concurrency");
/// The Wait For Session option, shared by both operations.
pub const WAIT_FOR_SESSION: Field = Field::new("waitForSession", "Wait For Session");
/// The credential's API key.
pub const API_KEY: Field = Field::new("apiKey", "API Key");
/// The credential's base URL.
pub const BASE_URL: Field = Field::new("baseUrl", "Base URL");
/// The credential's switch for plain `http://` to other machines.
pub const ALLOW_INSECURE_HTTP: Field = Field::new("allowInsecureHttp", "Allow Insecure HTTP");
/// The credential's restriction of where it may send requests (n8n's own field name, so that
/// n8n's HTTP Request node reads the same setting).
pub const ALLOWED_HTTP_REQUEST_DOMAINS: Field =
    Field::new("allowedHttpRequestDomains", "Allowed HTTP Request Domains");
/// The domains of the Specific Domains restriction (n8n's own field name).
pub const ALLOWED_DOMAINS: Field = Field::new("allowedDomains", "Allowed Domains");
/// The resource of the session actions (the only one of version 1).
pub const SESSION_RESOURCE: &str = "whatsappSession";
/// The read-only resource of version 2: a WhatsApp number.
pub const NUMBER_RESOURCE: &str = "whatsappNumber";
/// Get Many's Return All switch.
pub const RETURN_ALL: Field = Field::new("returnAll", "Return All");
/// Get Many's Limit.
pub const LIMIT: Field = Field::new("limit", "Limit");
/// Get Many's default Limit.
pub const DEFAULT_LIMIT: u64 = 50;
/// Get Many's Filters collection.
pub const FILTERS: Field = Field::new("filters", "Filters");
/// The Number Status filter of Get Many.
pub const STATUS_FILTER: Field = Field::new("status", "Number Status");
/// The Session Status filter of Get Many (and of the trigger).
pub const SESSION_STATUS_FILTER: Field = Field::new("sessionStatus", "Session Status");
/// A device's `status` values (the contract's).
pub const NUMBER_STATUSES: [&str; 4] = ["operative", "disabled", "pending", "removed"];
/// A session's `status` values (the contract's).
pub const SESSION_STATUSES: [&str; 7] = [
    "online",
    "offline",
    "timeout",
    "authorize",
    "connecting",
    "rebooting",
    "resetting",
];
/// The credential type's name.
pub const CREDENTIAL_TYPE: &str = "sparkBotApi";
/// The credential type's display name.
pub const CREDENTIAL_DISPLAY_NAME: &str = "SparkBot API";
/// Base URL used when the credential leaves it empty.
pub const DEFAULT_BASE_URL: &str = "https://api.sparkbot.io/v1";
/// Get QR Code's `operation` value (WhatsApp Session, version 2): a read, not an [`Operation`].
pub const GET_QR_CODE: &str = "getQrCode";
/// Get QR Code's display name.
pub const GET_QR_CODE_NAME: &str = "Get QR Code";
/// Get QR Code's binary field (n8n's usual name and label for it).
pub const BINARY_PROPERTY: Field = Field::new("binaryPropertyName", "Put Output File in Field");

/// The value n8n gives `operation` when a user picks its "Custom API Call" action.
pub const CUSTOM_API_CALL: &str = "__CUSTOM_API_CALL__";

/// A session operation of the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `POST /devices/{id}/reboot`.
    Reboot,
    /// `POST /devices/{id}/reset`.
    Reset,
}

/// One boolean option of an operation and the body field it becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BooleanOption {
    /// Parameter name and label.
    pub field: Field,
    /// Field in the JSON request body.
    pub wire_field: &'static str,
    /// Help text ("Whether …"). Only the node description shows it, and only the descriptor
    /// writer builds that (feature `descriptions`): the wasm module does not carry these texts.
    #[cfg(feature = "descriptions")]
    pub description: &'static str,
    /// For an option that destroys data: the warning the editor shows while it is on, and what
    /// the canvas subtitle adds.
    #[cfg(feature = "descriptions")]
    pub destructive: Option<Destructive>,
}

/// What the editor says about an option that destroys data while it is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Destructive {
    /// The notice shown above the options.
    pub warning: &'static str,
    /// What the canvas subtitle says it deletes: "Reset · deletes data & queue" (the canvas cuts
    /// a subtitle after about 30 characters).
    pub subtitle: &'static str,
}

const REBOOT_OPTIONS: [BooleanOption; 3] = [
    BooleanOption {
        field: Field::new("forceReboot", "Force Reboot"),
        wire_field: "force",
        #[cfg(feature = "descriptions")]
        description: "Whether to reboot the session even if it is stopped. Without it, a stopped session is refused with a 409 error.",
        #[cfg(feature = "descriptions")]
        destructive: None,
    },
    BooleanOption {
        field: Field::new("forceSync", "Force Sync"),
        wire_field: "sync",
        #[cfg(feature = "descriptions")]
        description: "Whether to force a synchronization of the session data (chats, contacts) after the reboot",
        #[cfg(feature = "descriptions")]
        destructive: None,
    },
    BooleanOption {
        field: WAIT_FOR_SESSION,
        wire_field: "wait",
        #[cfg(feature = "descriptions")]
        description: "Whether to hold the response until the session is online again. This may delay the response up to 90 seconds.",
        #[cfg(feature = "descriptions")]
        destructive: None,
    },
];

const RESET_OPTIONS: [BooleanOption; 3] = [
    BooleanOption {
        field: Field::new("deleteAllData", "Delete All Data"),
        wire_field: "deleteAllData",
        #[cfg(feature = "descriptions")]
        description: "Whether to permanently delete all stored chats, messages and contacts of the number. Destructive: this cannot be undone.",
        #[cfg(feature = "descriptions")]
        destructive: Some(Destructive {
            warning: "Delete All Data is on: every run permanently deletes all stored chats, messages and contacts of the number. This cannot be undone.",
            subtitle: "data",
        }),
    },
    BooleanOption {
        field: Field::new("emptyQueue", "Empty Queue"),
        wire_field: "emptyQueue",
        #[cfg(feature = "descriptions")]
        description: "Whether to permanently delete every queued outbound message of the number that has not been sent yet. Destructive: this cannot be undone.",
        #[cfg(feature = "descriptions")]
        destructive: Some(Destructive {
            warning: "Empty Queue is on: every run permanently deletes the messages of the number that are queued and not sent yet. This cannot be undone.",
            subtitle: "queue",
        }),
    },
    BooleanOption {
        field: WAIT_FOR_SESSION,
        wire_field: "wait",
        #[cfg(feature = "descriptions")]
        description: "Whether to hold the response until the number is available again. This may delay the response up to 2 minutes.",
        #[cfg(feature = "descriptions")]
        destructive: None,
    },
];

/// A read-only operation of the WhatsApp Number resource (version 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOperation {
    /// `GET /devices/{id}`.
    Get,
    /// `GET /devices`, every page or the first `limit` numbers, filtered.
    GetMany,
}

impl ReadOperation {
    /// Both, in the order the node lists them.
    pub const ALL: [ReadOperation; 2] = [ReadOperation::Get, ReadOperation::GetMany];
    /// Their values, as error messages list them.
    pub const KNOWN_VALUES: &'static str = "get or getAll";

    /// Parses the `operation` parameter value.
    pub fn from_value(value: &str) -> Option<ReadOperation> {
        ReadOperation::ALL
            .into_iter()
            .find(|op| op.value() == value)
    }

    /// The `operation` parameter value.
    pub fn value(self) -> &'static str {
        match self {
            ReadOperation::Get => "get",
            ReadOperation::GetMany => "getAll",
        }
    }

    /// Title Case label.
    pub fn display_name(self) -> &'static str {
        match self {
            ReadOperation::Get => "Get",
            ReadOperation::GetMany => "Get Many",
        }
    }

    /// Sentence-case action label, short as n8n's own: n8n names a node added from the panel
    /// after it, and an AI agent reads it (`… in SparkBot`) as the tool's description.
    pub fn action(self) -> &'static str {
        match self {
            ReadOperation::Get => "Get a WhatsApp number",
            ReadOperation::GetMany => "Get many WhatsApp numbers",
        }
    }

    /// What the operation does, for the operation dropdown.
    pub fn description(self) -> &'static str {
        match self {
            ReadOperation::Get => "Read one number: its alias, phone, status and session status. Changes nothing, so an agent can look before it reboots.",
            ReadOperation::GetMany => "List the numbers of the account, all or the first ones, filtered by number or session status. Changes nothing.",
        }
    }
}

impl Operation {
    /// Both operations, in the order the node lists them.
    pub const ALL: [Operation; 2] = [Operation::Reboot, Operation::Reset];
    /// Their values, as error messages list them.
    pub const KNOWN_VALUES: &'static str = "reboot, reset or getQrCode";

    /// Parses the `operation` parameter value.
    pub fn from_value(value: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|op| op.value() == value)
    }

    /// The `operation` parameter value, also the last path segment of the endpoint.
    pub fn value(self) -> &'static str {
        match self {
            Operation::Reboot => "reboot",
            Operation::Reset => "reset",
        }
    }

    /// Title Case label of the operation.
    pub fn display_name(self) -> &'static str {
        match self {
            Operation::Reboot => "Reboot Session",
            Operation::Reset => "Reset Session",
        }
    }

    /// Sentence-case action label (n8n shows it in the nodes panel).
    pub fn action(self) -> &'static str {
        match self {
            Operation::Reboot => "Reboot a WhatsApp session",
            Operation::Reset => "Reset a WhatsApp session",
        }
    }

    /// What the operation does, for the operation dropdown.
    pub fn description(self) -> &'static str {
        match self {
            Operation::Reboot => "Restart the WhatsApp session of a number; deletes nothing. Try it first when a number stops sending.",
            Operation::Reset => "Reset the WhatsApp session of a number: a deeper restart for when a reboot did not help. Can also delete its stored data and queued messages.",
        }
    }

    /// The operation's boolean options, sorted by display name.
    pub fn options(self) -> &'static [BooleanOption] {
        match self {
            Operation::Reboot => &REBOOT_OPTIONS,
            Operation::Reset => &RESET_OPTIONS,
        }
    }

    /// How long SparkBot may hold a `wait` request before answering `504 session_timeout`.
    pub fn wait_window_secs(self) -> u64 {
        match self {
            Operation::Reboot => 90,
            Operation::Reset => 120,
        }
    }

    /// The automatic time budget: 30 s, or the wait window plus a network margin.
    pub fn automatic_timeout_secs(self, wait: bool) -> u64 {
        if wait {
            self.wait_window_secs() + WAIT_MARGIN_SECS
        } else {
            DEFAULT_TIMEOUT_SECS
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_operations_have_title_case_names_and_camel_case_values() {
        assert_eq!(
            ReadOperation::ALL.map(|op| (op.display_name(), op.value())),
            [("Get", "get"), ("Get Many", "getAll")]
        );
    }

    #[test]
    fn known_values_list_every_operation() {
        let mut values = Operation::ALL.map(Operation::value).to_vec();
        values.push(GET_QR_CODE);
        assert_eq!(
            values
                .join(", ")
                .replacen(", getQrCode", " or getQrCode", 1),
            Operation::KNOWN_VALUES
        );
    }

    #[test]
    fn values_round_trip() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_value(op.value()), Some(op));
        }
        assert_eq!(Operation::from_value("delete"), None);
    }

    #[test]
    fn automatic_budgets_follow_the_contract() {
        assert_eq!(Operation::Reboot.automatic_timeout_secs(false), 30);
        assert_eq!(Operation::Reset.automatic_timeout_secs(false), 30);
        assert_eq!(Operation::Reboot.automatic_timeout_secs(true), 105);
        assert_eq!(Operation::Reset.automatic_timeout_secs(true), 135);
    }

    #[test]
    fn options_are_sorted_by_display_name() {
        for op in Operation::ALL {
            let names: Vec<_> = op.options().iter().map(|o| o.field.display_name).collect();
            let mut sorted = names.clone();
            sorted.sort_unstable();
            assert_eq!(names, sorted);
        }
    }
}
