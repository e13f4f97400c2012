//! The HTTP surface: the whole route table in [`routes`], thin handlers in
//! the submodules, and the helpers they share for rendering pages.

pub mod accounts;
pub mod api;
pub mod dms;
pub mod message_actions;
pub mod middleware;
pub mod ops;
pub mod page;
pub mod pages;
pub mod rooms;
pub mod search;
pub mod uploads;

use actix_web::web;

/// Every route Palaver serves. Static files are mounted by
/// `Application::build`, since their directory is only known at start-up.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(pages::home))
        .route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/metrics", web::get().to(ops::metrics))
        .route("/index.html", web::get().to(pages::index_html))
        .service(
            web::resource("/register")
                .route(web::get().to(accounts::register_form))
                .route(web::post().to(accounts::register)),
        )
        .service(
            web::resource("/login")
                .route(web::get().to(accounts::login_form))
                .route(web::post().to(accounts::login)),
        )
        .service(web::resource("/logout").route(web::post().to(accounts::logout)))
        .service(web::resource("/rooms").route(web::post().to(rooms::create_room)))
        .service(web::resource("/rooms/{name}").route(web::get().to(rooms::room_page)))
        .service(web::resource("/rooms/{name}/messages").route(web::post().to(rooms::post_message)))
        .service(web::resource("/rooms/{name}/uploads").route(web::post().to(uploads::upload_form)))
        .service(web::resource("/rooms/{name}/media").route(web::get().to(uploads::gallery)))
        .service(
            web::resource("/rooms/{name}/messages/{id}/edit")
                .route(web::post().to(message_actions::edit_form)),
        )
        .service(
            web::resource("/rooms/{name}/messages/{id}/delete")
                .route(web::post().to(message_actions::delete_form)),
        )
        .service(
            web::resource("/rooms/{name}/messages/{id}/react")
                .route(web::post().to(message_actions::react_form)),
        )
        .service(web::resource("/dms").route(web::post().to(dms::open_form)))
        .service(web::resource("/users/{name}").route(web::get().to(dms::user_page)))
        .route("/search", web::get().to(search::search_page))
        .service(web::resource("/uploads/{id}").route(web::get().to(uploads::file)))
        .service(web::resource("/uploads/{id}/thumb").route(web::get().to(uploads::thumbnail)))
        .route("/ws", web::get().to(crate::chat::session::ws_route))
        .service(
            web::scope("/api")
                .route("/login", web::post().to(api::login))
                .route("/logout", web::post().to(api::logout))
                .route("/me", web::get().to(api::me))
                .service(
                    web::resource("/rooms")
                        .route(web::get().to(api::rooms))
                        .route(web::post().to(api::create_room)),
                )
                .service(
                    web::resource("/rooms/{room}/messages")
                        .route(web::get().to(api::messages))
                        .route(web::post().to(api::post_message)),
                )
                .service(
                    web::resource("/rooms/{room}/uploads")
                        .route(web::post().to(uploads::upload_api)),
                )
                .service(web::resource("/rooms/{room}/read").route(web::post().to(api::read)))
                .service(
                    web::resource("/messages/{id}")
                        .route(web::patch().to(message_actions::edit_api))
                        .route(web::delete().to(message_actions::delete_api)),
                )
                .service(
                    web::resource("/messages/{id}/reactions")
                        .route(web::post().to(message_actions::react_api)),
                )
                .service(
                    web::resource("/messages/{id}/reactions/{emoji}")
                        .route(web::delete().to(message_actions::unreact_api)),
                )
                .service(web::resource("/dms").route(web::post().to(dms::open_api)))
                .route("/online", web::get().to(api::online))
                .route("/search", web::get().to(search::api_search)),
        );
}
