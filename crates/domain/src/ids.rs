//! Opaque identifiers (UUIDv7): never sequential numbers in URLs.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered identifier.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|_| crate::ValidationError::new("id", "malformed"))
            }
        }
    };
}

id_type!(
    /// A municipality (tenant) of the installation.
    MunicipalityId
);
id_type!(
    /// A facility (organisation) in a municipality's network.
    FacilityId
);
id_type!(
    /// A person's account.
    AccountId
);
id_type!(
    /// A pending invitation (ID issuing).
    InvitationId
);
id_type!(
    /// A patient cared for at home.
    PatientId
);
id_type!(
    /// An entry (記録) on a patient's timeline.
    EntryId
);
id_type!(
    /// A case of the coordination centre (a consultation or a discharge request).
    CaseId
);
id_type!(
    /// A request to a candidate facility to join a case's future team.
    CandidateRequestId
);
