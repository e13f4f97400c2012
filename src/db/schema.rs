// @generated automatically by Diesel CLI.

diesel::table! {
    messages (id) {
        id -> Integer,
        room_id -> Integer,
        seq -> BigInt,
        user_id -> Integer,
        body -> Text,
        created_at -> BigInt,
        client_id -> Nullable<Text>,
        upload_id -> Nullable<Integer>,
    }
}

diesel::table! {
    rooms (id) {
        id -> Integer,
        name -> Text,
        name_key -> Text,
        created_by -> Nullable<Integer>,
        created_at -> BigInt,
        last_seq -> BigInt,
    }
}

diesel::table! {
    sessions (id) {
        id -> Integer,
        user_id -> Integer,
        token_hash -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    uploads (id) {
        id -> Integer,
        user_id -> Integer,
        sha256 -> Text,
        kind -> Text,
        mime -> Text,
        size -> BigInt,
        original_name -> Text,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        created_at -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> Integer,
        name -> Text,
        name_key -> Text,
        password_hash -> Text,
        is_admin -> Bool,
        disabled -> Bool,
        created_at -> BigInt,
    }
}

diesel::joinable!(messages -> rooms (room_id));
diesel::joinable!(messages -> uploads (upload_id));
diesel::joinable!(messages -> users (user_id));
diesel::joinable!(rooms -> users (created_by));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(uploads -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(messages, rooms, sessions, uploads, users,);
