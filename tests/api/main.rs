#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Black-box tests: each starts the real server on port 0 with its own temp
//! data dir and talks to it over real HTTP. One test binary, one file per
//! feature.

mod accounts;
mod admin;
mod api;
mod cli;
mod conversations;
mod dms;
mod durability;
mod helpers;
mod ops;
mod persistence;
mod rooms;
mod search;
mod site;
mod tls;
mod unread;
mod uploads;
mod ws;
