// @generated automatically by Diesel CLI.

diesel::table! {
    mentions (message_id, user_id) {
        message_id -> Integer,
        user_id -> Integer,
    }
}

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
        edited_at -> Nullable<BigInt>,
        deleted_at -> Nullable<BigInt>,
        reply_to -> Nullable<Integer>,
    }
}

diesel::table! {
    reactions (message_id, user_id, emoji) {
        message_id -> Integer,
        user_id -> Integer,
        emoji -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    read_markers (user_id, room_id) {
        user_id -> Integer,
        room_id -> Integer,
        last_read_seq -> BigInt,
    }
}

diesel::table! {
    room_events (id) {
        id -> Integer,
        room_id -> Integer,
        seq -> BigInt,
        kind -> Text,
        message_id -> Integer,
        user_id -> Integer,
        emoji -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    room_members (room_id, user_id) {
        room_id -> Integer,
        user_id -> Integer,
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
        kind -> Text,
        dm_key -> Nullable<Text>,
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

diesel::joinable!(mentions -> messages (message_id));
diesel::joinable!(mentions -> users (user_id));
diesel::joinable!(messages -> rooms (room_id));
diesel::joinable!(messages -> uploads (upload_id));
diesel::joinable!(messages -> users (user_id));
diesel::joinable!(reactions -> messages (message_id));
diesel::joinable!(reactions -> users (user_id));
diesel::joinable!(read_markers -> rooms (room_id));
diesel::joinable!(read_markers -> users (user_id));
diesel::joinable!(room_events -> messages (message_id));
diesel::joinable!(room_events -> rooms (room_id));
diesel::joinable!(room_events -> users (user_id));
diesel::joinable!(room_members -> rooms (room_id));
diesel::joinable!(room_members -> users (user_id));
diesel::joinable!(rooms -> users (created_by));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(uploads -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    mentions,
    messages,
    reactions,
    read_markers,
    room_events,
    room_members,
    rooms,
    sessions,
    uploads,
    users,
);
