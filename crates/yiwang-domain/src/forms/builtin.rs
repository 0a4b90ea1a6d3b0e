//! The built-in form used when no definition is stored for an implementation or its standard
//! item: 申请事项说明, 联系人, 联系电话.

use super::model::{Field, FieldKind, FormDefinition, Prefill, Section, Text};

/// Key of the built-in form.
pub const DEFAULT_FORM_KEY: &str = "generic_application";

/// A small generic application form.
pub fn default_form() -> FormDefinition {
    let mut desc = Field::new(
        "description",
        Text::both("申请事项说明", "What you are applying for"),
        FieldKind::Textarea,
    )
    .required();
    desc.max_len = Some(2000);
    desc.help = Some(Text::both(
        "请简要说明申请的事项和理由。",
        "Briefly describe what you apply for and why.",
    ));
    let mut contact = Field::new(
        "contact_name",
        Text::both("联系人", "Contact person"),
        FieldKind::Text,
    )
    .required();
    contact.max_len = Some(50);
    contact.prefill = Some(Prefill::PersonName);
    let mut phone = Field::new(
        "contact_phone",
        Text::both("联系电话", "Contact phone"),
        FieldKind::Phone,
    )
    .required();
    phone.prefill = Some(Prefill::Phone);
    FormDefinition {
        key: DEFAULT_FORM_KEY.to_string(),
        version: 1,
        title: Text::both("申请表", "Application form"),
        sections: vec![Section {
            key: "application".to_string(),
            title: Text::both("申请信息", "Application"),
            fields: vec![desc, contact, phone],
        }],
        certificate: None,
    }
}
