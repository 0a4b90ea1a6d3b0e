//! The closed list of error codes. Messages (zh-CN, en) live in the message catalog under
//! `error.<key>`; the HTTP status for each code is decided in one place in the web crate.

use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($($variant:ident => $key:literal),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $(#[error($key)] $variant,)*
        }
        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];
            pub fn key(self) -> &'static str {
                match self { $(ErrorCode::$variant => $key,)* }
            }
        }
    };
}

error_codes! {
    InvalidRegionCode => "invalid_region_code",
    InvalidCreditCode => "invalid_credit_code",
    CreditCodeCheckFailed => "credit_code_check_failed",
    InvalidBasicCode => "invalid_basic_code",
    InvalidImplCode => "invalid_impl_code",
    UnknownEnumValue => "unknown_enum_value",
    Required => "required",
    TooLong => "too_long",
    NotAnInteger => "not_an_integer",
    OutOfRange => "out_of_range",
    CatchAllMaterial => "catch_all_material",
    PromisedExceedsStatutory => "promised_exceeds_statutory",
    FeeWithoutBasis => "fee_without_basis",
    FullyOnlineWithVisits => "fully_online_with_visits",
    DuplicateImplCode => "duplicate_impl_code",
    DuplicateMaterial => "duplicate_material",
    UnknownRegion => "unknown_region",
    UnknownDepartment => "unknown_department",
    DepartmentNameMismatch => "department_name_mismatch",
    StandardItemConflict => "standard_item_conflict",
    LevelOutsideItem => "level_outside_item",
    UnknownImplementation => "unknown_implementation",
    MissingColumn => "missing_column",
    DuplicateColumn => "duplicate_column",
    InvalidUtf8 => "invalid_utf8",
    MalformedFile => "malformed_file",
    MissingSheet => "missing_sheet",
    CellTooLarge => "cell_too_large",
    FileTooLarge => "file_too_large",
    UnsupportedFormat => "unsupported_format",
    UnsupportedFileType => "unsupported_file_type",
    EmptyFile => "empty_file",
    UploadLocked => "upload_locked",
    TooManyFiles => "too_many_files",
    NotAuthenticated => "not_authenticated",
    Forbidden => "forbidden",
    TokenBeyondCreator => "token_beyond_creator",
    TokenRoleNotAllowed => "token_role_not_allowed",
    TokenUnscoped => "token_unscoped",
    NotFound => "not_found",
    MethodNotAllowed => "method_not_allowed",
    BadLogin => "bad_login",
    WeakPassword => "weak_password",
    UsernameTaken => "username_taken",
    InvalidUsername => "invalid_username",
    InvalidInput => "invalid_input",
    InvalidCursor => "invalid_cursor",
    NothingToPublish => "nothing_to_publish",
    Conflict => "conflict",
    InvalidCaseNumber => "invalid_case_number",
    InvalidApplicantId => "invalid_applicant_id",
    ApplicantExists => "applicant_exists",
    InvalidWorkflow => "invalid_workflow",
    InvalidFormDefinition => "invalid_form_definition",
    InvalidFormInput => "invalid_form_input",
    TransitionNotAllowed => "transition_not_allowed",
    CaseChanged => "case_changed",
    NotEditable => "not_editable",
    IdentityUnverified => "identity_unverified",
    IdentityConflict => "identity_conflict",
    TooManyDrafts => "too_many_drafts",
    UploadQuotaExceeded => "upload_quota_exceeded",
    UnknownColumn => "unknown_column",
    DuplicateKey => "duplicate_key",
    ResidentIdCheckFailed => "resident_id_check_failed",
    InconsistentValue => "inconsistent_value",
    Internal => "internal",
}

/// One problem found in outside input, pointing at the place: sheet, row and field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// `items` or `materials` for catalog files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// Row number as a spreadsheet shows it (the header is row 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    /// The column header (element name) at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub code: ErrorCode,
    /// The offending value (shortened) or the allowed values, for the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Issue {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            sheet: None,
            row: None,
            field: None,
            code,
            detail: None,
        }
    }
    pub fn at(mut self, sheet: &str, row: u64) -> Self {
        self.sheet = Some(sheet.to_string());
        self.row = Some(row);
        self
    }
    pub fn field(mut self, field: &str) -> Self {
        self.field = Some(field.to_string());
        self
    }
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        let d: String = detail.into();
        // Hostile or huge values are shortened so reports stay readable.
        self.detail = Some(if d.chars().count() > 60 {
            let mut s: String = d.chars().take(60).collect();
            s.push('…');
            s
        } else {
            d
        });
        self
    }
}
