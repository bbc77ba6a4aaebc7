//! Accounts: people, their professions and their roles.

use crate::{ValidationError, coded_enum, text};

coded_enum!(
    /// 職種.
    Profession {
        Physician = "physician", "医師", "Physician";
        Dentist = "dentist", "歯科医師", "Dentist";
        Pharmacist = "pharmacist", "薬剤師", "Pharmacist";
        Nurse = "nurse", "看護師", "Nurse";
        AssistantNurse = "assistant_nurse", "准看護師", "Assistant nurse";
        PublicHealthNurse = "public_health_nurse", "保健師", "Public health nurse";
        PhysicalTherapist = "physical_therapist", "理学療法士", "Physical therapist";
        OccupationalTherapist = "occupational_therapist", "作業療法士", "Occupational therapist";
        SpeechTherapist = "speech_therapist", "言語聴覚士", "Speech therapist";
        Dietitian = "dietitian", "管理栄養士", "Registered dietitian";
        DentalHygienist = "dental_hygienist", "歯科衛生士", "Dental hygienist";
        CareManager = "care_manager", "介護支援専門員", "Care manager";
        CareWorker = "care_worker", "介護福祉士", "Certified care worker";
        HomeHelper = "home_helper", "訪問介護員", "Home helper";
        MedicalSocialWorker = "medical_social_worker", "医療ソーシャルワーカー", "Medical social worker";
        SocialWorker = "social_worker", "社会福祉士", "Social worker";
        Clerk = "clerk", "事務職員", "Clerical staff";
        MunicipalOfficer = "municipal_officer", "行政職員", "Municipal officer";
        Family = "family", "家族", "Family member";
        Other = "other", "その他", "Other";
    }
);

coded_enum!(
    /// What an account may administer. Every account is at least a professional.
    Role {
        Operator = "operator", "運用管理者", "Operator";
        MunicipalityAdmin = "municipality_admin", "市区町村管理者", "Municipality admin";
        Coordinator = "coordinator", "連携センター職員", "Coordinator";
        FacilityAdmin = "facility_admin", "事業所管理者", "Facility admin";
        Professional = "professional", "専門職", "Professional";
    }
);

coded_enum!(
    /// Where an account is in its life.
    AccountStatus {
        Invited = "invited", "招待中", "Invited";
        Active = "active", "有効", "Active";
        Disabled = "disabled", "停止", "Disabled";
    }
);

/// The name a person signs in with: 3–32 of a–z, 0–9, '.', '_', '-'; stored lower-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LoginId(String);

impl LoginId {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let value = text::fold_full_width_ascii(raw.trim()).to_ascii_lowercase();
        if !(3..=32).contains(&value.len()) {
            return Err(ValidationError::new("login_id", "length"));
        }
        if !value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')) {
            return Err(ValidationError::new("login_id", "characters"));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address, checked only for shape: the invitation proves it works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let value = raw.trim();
        let shape_ok = value.len() <= 254
            && !value.chars().any(|c| c.is_whitespace() || c.is_control())
            && value.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            });
        if !shape_ok {
            return Err(ValidationError::new("email", "format"));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password someone chose. Length is what matters (NIST SP 800-63B); a
/// second factor is always required on top for professionals.
pub struct NewPassword(String);

pub const PASSWORD_MIN_CHARS: usize = 10;

impl NewPassword {
    pub fn parse(raw: &str, login_id: &LoginId) -> Result<Self, ValidationError> {
        let chars = raw.chars().count();
        if chars < PASSWORD_MIN_CHARS {
            return Err(ValidationError::new("password", "too_short"));
        }
        if chars > 128 {
            return Err(ValidationError::new("password", "too_long"));
        }
        let lower = raw.to_lowercase();
        if lower.contains(login_id.as_str()) {
            return Err(ValidationError::new("password", "contains_login_id"));
        }
        if COMMON_PASSWORDS.iter().any(|p| lower.starts_with(p)) || all_same_character(raw) {
            return Err(ValidationError::new("password", "too_common"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

fn all_same_character(raw: &str) -> bool {
    let first = raw.chars().next();
    raw.chars().all(|c| Some(c) == first)
}

const COMMON_PASSWORDS: &[&str] =
    &["password", "1234567890", "0123456789", "qwertyuiop", "abcdefghij", "iloveyou12", "passw0rd"];

/// What an admin types to issue an ID.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub login_id: LoginId,
    pub display_name: String,
    pub display_name_kana: Option<String>,
    pub email: Option<Email>,
    pub profession: Profession,
    pub roles: Vec<Role>,
}

impl NewAccount {
    pub fn parse(
        login_id: &str,
        display_name: &str,
        display_name_kana: &str,
        email: &str,
        profession: &str,
        roles: &[&str],
    ) -> Result<Self, ValidationError> {
        let mut parsed_roles = vec![Role::Professional];
        for code in roles {
            let role = Role::parse(code).map_err(|_| ValidationError::new("roles", "unknown"))?;
            if !parsed_roles.contains(&role) {
                parsed_roles.push(role);
            }
        }
        Ok(Self {
            login_id: LoginId::parse(login_id)?,
            display_name: text::required("display_name", display_name, 60)?,
            display_name_kana: text::optional("display_name_kana", display_name_kana, 120)?,
            email: match email.trim() {
                "" => None,
                raw => Some(Email::parse(raw)?),
            },
            profession: Profession::parse(profession).map_err(|_| ValidationError::new("profession", "unknown"))?,
            roles: parsed_roles,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(s: &str) -> LoginId {
        LoginId::parse(s).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn login_ids_are_folded_and_checked() {
        assert_eq!(LoginId::parse(" Nurse.Sato ").map(|l| l.0), Ok("nurse.sato".to_owned()));
        assert_eq!(LoginId::parse("ab"), Err(ValidationError::new("login_id", "length")));
        assert_eq!(LoginId::parse("佐藤さん"), Err(ValidationError::new("login_id", "characters")));
    }

    #[test]
    fn passwords_must_be_long_and_not_obvious() {
        let id = login("sato");
        assert!(NewPassword::parse("correct horse battery", &id).is_ok());
        assert_eq!(NewPassword::parse("short", &id).map(|_| ()), Err(ValidationError::new("password", "too_short")));
        assert_eq!(
            NewPassword::parse("my-sato-password", &id).map(|_| ()),
            Err(ValidationError::new("password", "contains_login_id"))
        );
        assert_eq!(
            NewPassword::parse("Password123!", &id).map(|_| ()),
            Err(ValidationError::new("password", "too_common"))
        );
        assert_eq!(
            NewPassword::parse("aaaaaaaaaaaa", &id).map(|_| ()),
            Err(ValidationError::new("password", "too_common"))
        );
    }

    #[test]
    fn passwords_never_print() {
        let p = NewPassword::parse("correct horse battery", &login("sato"));
        assert_eq!(p.map(|p| format!("{p:?}")), Ok("NewPassword(***)".to_owned()));
    }

    #[test]
    fn emails() {
        assert!(Email::parse("sato@example.jp").is_ok());
        for bad in ["", "sato", "sato@", "@example.jp", "sato@example", "sa to@example.jp"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_new_account_is_a_professional() {
        let account = NewAccount::parse("sato", "佐藤 花子", "", "", "nurse", &["facility_admin"]);
        assert_eq!(account.map(|a| a.roles), Ok(vec![Role::Professional, Role::FacilityAdmin]));
        let bad = NewAccount::parse("sato", "佐藤 花子", "", "", "astronaut", &[]);
        assert_eq!(bad.map(|_| ()), Err(ValidationError::new("profession", "unknown")));
    }
}
