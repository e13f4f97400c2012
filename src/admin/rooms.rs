//! `palaver room add|list`.
//!
//! A room added here exists at once for every page and API call; clients
//! already connected see it in their room list when it next refreshes.

use super::{open, table, AdminError, RoomCommand};
use crate::chat::{self, dms};
use crate::config::Config;
use crate::db;
use crate::db::rooms::CreateRoomError;
use crate::domain::RoomName;

pub fn run(command: RoomCommand, config: &Config) -> Result<String, AdminError> {
    match command {
        RoomCommand::Add { name } => add(config, &name),
        RoomCommand::List => list(config),
    }
}

fn add(config: &Config, name: &str) -> Result<String, AdminError> {
    let name = RoomName::parse(name).map_err(AdminError::Invalid)?;
    if dms::is_reserved(&name) {
        return Err(AdminError::Invalid(
            chat::CreateRoomError::Reserved.to_string(),
        ));
    }
    let mut conn = open(config)?;
    db::rooms::create(&mut conn, &name, None).map_err(|err| match err {
        CreateRoomError::NameTaken => {
            AdminError::Invalid(format!("A room named {name} already exists."))
        }
        CreateRoomError::Db(err) => AdminError::db("add the room")(err),
    })?;
    Ok(format!("Added room {name}.\n"))
}

fn list(config: &Config) -> Result<String, AdminError> {
    let mut conn = open(config)?;
    let rooms = db::rooms::list(&mut conn).map_err(AdminError::db("list the rooms"))?;
    let rows: Vec<[String; 2]> = rooms
        .into_iter()
        .map(|room| [room.name, room.message_count.to_string()])
        .collect();
    Ok(table(["NAME", "MESSAGES"], &rows))
}
