//! The password policy, for staff and applicants alike: small enough to explain in one
//! sentence — 10 to 128 characters, with at least three of lower case, upper case, digits and
//! other characters.

/// Fewest and most characters a password may have.
pub const PASSWORD_MIN_CHARS: usize = 10;
pub const PASSWORD_MAX_CHARS: usize = 128;
/// How many of the four character classes a password must mix.
pub const PASSWORD_MIN_CLASSES: usize = 3;

/// Whether `password` meets the policy.
pub fn password_acceptable(password: &str) -> bool {
    let n = password.chars().count();
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    (PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&n)
        && classes.iter().filter(|b| **b).count() >= PASSWORD_MIN_CLASSES
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_policy_in_examples() {
        assert!(password_acceptable("Shenqing-2026!"));
        assert!(password_acceptable("abcdefgh1!"));
        assert!(password_acceptable("ABCDEFGH1a"));
        assert!(!password_acceptable("Aa1!"), "too short");
        assert!(!password_acceptable("abcdefghij1"), "two classes");
        assert!(!password_acceptable("密码密码密码密码密码"), "one class");
        assert!(password_acceptable("密码密码密码密码Aa1"));
        let long = format!("Aa1{}", "x".repeat(PASSWORD_MAX_CHARS - 2));
        assert!(!password_acceptable(&long), "too long");
    }

    proptest! {
        #[test]
        fn length_bounds_hold(s in "[a-zA-Z0-9!]{0,140}") {
            let n = s.chars().count();
            if !(PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&n) {
                prop_assert!(!password_acceptable(&s));
            }
        }

        #[test]
        fn three_classes_and_the_length_suffice(core in "[a-z]{8,100}") {
            let s = format!("{core}A1");
            prop_assert!(password_acceptable(&s));
            prop_assert!(!password_acceptable(&core));
        }
    }
}
