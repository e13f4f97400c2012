//! `palaver user add|passwd|role|list|disable|enable`.

use super::password_input::read_new_password;
use super::{format_ms, open, table, AdminError, Role, UserCommand};
use crate::config::Config;
use crate::db::models::User;
use crate::db::users::CreateUserError;
use crate::db::{self, Conn};
use crate::domain::{Password, Username};

pub fn run(command: UserCommand, config: &Config) -> Result<String, AdminError> {
    match command {
        UserCommand::Add { name, admin } => add(config, &name, admin),
        UserCommand::Passwd { name } => passwd(config, &name),
        UserCommand::Role { name, role } => set_role(config, &name, role),
        UserCommand::List => list(config),
        UserCommand::Disable { name } => set_disabled(config, &name, true),
        UserCommand::Enable { name } => set_disabled(config, &name, false),
    }
}

fn add(config: &Config, name: &str, admin: bool) -> Result<String, AdminError> {
    let name = Username::parse(name).map_err(AdminError::Invalid)?;
    let mut conn = open(config)?;
    // Before asking for a password that could not be used anyway.
    if db::users::find_by_name(&mut conn, name.as_str())
        .map_err(AdminError::db("look the user up"))?
        .is_some()
    {
        return Err(taken(&name));
    }
    let hash = hash(read_new_password()?, config.bcrypt_cost)?;
    db::users::create(&mut conn, &name, &hash, admin).map_err(|err| match err {
        CreateUserError::NameTaken => taken(&name),
        CreateUserError::Db(err) => AdminError::db("add the user")(err),
    })?;
    Ok(format!("Added {} {name}.\n", role_name(admin)))
}

fn passwd(config: &Config, name: &str) -> Result<String, AdminError> {
    let mut conn = open(config)?;
    let user = existing(&mut conn, name)?;
    let hash = hash(read_new_password()?, config.bcrypt_cost)?;
    // SPEC §4.3: a password change ends the user's other sessions. From the
    // shell there is no current one, so every session ends.
    let ended = conn
        .immediate_transaction(|conn| {
            db::users::set_password_hash(conn, user.id, &hash)?;
            db::sessions::delete_for_user(conn, user.id)
        })
        .map_err(AdminError::db("change the password"))?;
    Ok(format!(
        "Changed the password of {}; ended {}.\n",
        user.name,
        sessions(ended)
    ))
}

fn set_role(config: &Config, name: &str, role: Role) -> Result<String, AdminError> {
    let mut conn = open(config)?;
    let user = existing(&mut conn, name)?;
    let admin = role == Role::Admin;
    db::users::set_admin(&mut conn, user.id, admin).map_err(AdminError::db("change the role"))?;
    Ok(format!("{} is now {}.\n", user.name, role_name(admin)))
}

fn list(config: &Config) -> Result<String, AdminError> {
    let mut conn = open(config)?;
    let users = db::users::list(&mut conn).map_err(AdminError::db("list the users"))?;
    let rows: Vec<[String; 4]> = users
        .iter()
        .map(|user| {
            [
                user.name.clone(),
                role_name(user.is_admin).to_string(),
                if user.disabled { "yes" } else { "no" }.to_string(),
                format_ms(user.created_at),
            ]
        })
        .collect();
    Ok(table(["NAME", "ROLE", "DISABLED", "CREATED"], &rows))
}

fn set_disabled(config: &Config, name: &str, disabled: bool) -> Result<String, AdminError> {
    let mut conn = open(config)?;
    let user = existing(&mut conn, name)?;
    if !disabled {
        db::users::set_disabled(&mut conn, user.id, false)
            .map_err(AdminError::db("enable the user"))?;
        return Ok(format!("Enabled {}.\n", user.name));
    }
    let ended = conn
        .immediate_transaction(|conn| {
            db::users::set_disabled(conn, user.id, true)?;
            db::sessions::delete_for_user(conn, user.id)
        })
        .map_err(AdminError::db("disable the user"))?;
    Ok(format!(
        "Disabled {}; ended {}. Open WebSockets close at the server's next session check.\n",
        user.name,
        sessions(ended)
    ))
}

/// The account called `name` (any case), or exit 3.
fn existing(conn: &mut Conn, name: &str) -> Result<User, AdminError> {
    let name = Username::parse(name).map_err(AdminError::Invalid)?;
    db::users::find_by_name(conn, name.as_str())
        .map_err(AdminError::db("look the user up"))?
        .ok_or_else(|| AdminError::NotFound(format!("There is no user named {name}.")))
}

fn hash(password: Password, cost: u32) -> Result<String, AdminError> {
    bcrypt::non_truncating_hash(password.expose(), cost)
        .map_err(|err| AdminError::Failed(anyhow::anyhow!("Failed to hash the password: {err}")))
}

fn taken(name: &Username) -> AdminError {
    AdminError::Invalid(format!("The username {name} is taken."))
}

fn role_name(admin: bool) -> &'static str {
    if admin {
        "admin"
    } else {
        "member"
    }
}

fn sessions(count: usize) -> String {
    match count {
        1 => "1 session".into(),
        n => format!("{n} sessions"),
    }
}
