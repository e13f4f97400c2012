//! Who is asking: passwords, session tokens, CSRF tokens, login throttling,
//! and the `MaybeUser` / `CurrentUser` extractors.

pub mod csrf;
pub mod extract;
pub mod login;
pub mod password;
pub mod session;
pub mod throttle;

pub use extract::{CurrentUser, MaybeUser};
