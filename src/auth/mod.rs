//! Who is asking: passwords, session tokens, CSRF tokens, login throttling,
//! the `MaybeUser` / `CurrentUser` extractors, and where a request comes
//! from (`client`: IP and origin, proxy headers trusted only when told).

pub mod client;
pub mod csrf;
pub mod extract;
pub mod login;
pub mod password;
pub mod session;
pub mod throttle;

pub use extract::{CurrentUser, MaybeUser};
