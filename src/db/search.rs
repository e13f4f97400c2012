//! Full-text search over message bodies (SPEC §4.5): the FTS5 query, who may
//! see what, ranking, paging, and the highlighted snippet.
//!
//! The index is `messages_fts` (migration `2026-11-23-000003_search`), kept
//! in step with `messages` inside the writer's transactions — new messages
//! by the writer itself, once per batch (`messages::index_new`), edits and
//! deletions by triggers: an edited message is found by its new words only,
//! a deleted one (body `''`, `deleted_at` set) not at all.
//!
//! User input is never FTS5 syntax: [`SearchTerms`] splits it into words and
//! quotes each as an FTS5 string, so `"`, `*`, `NEAR(`, `AND`, `-`, `:` are
//! just characters to look for. Snippets are built "escape first, then
//! mark": SQLite wraps matches in two control characters that a message body
//! cannot contain (`MessageBody::parse` refuses them), the snippet is
//! HTML-escaped, and only then do those characters become `<mark>` tags.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use super::schema::rooms;
use super::Conn;
use crate::markdown::escape_html;

/// Results per page.
pub const PAGE_SIZE: i64 = 20;
/// Words looked at in one query; more are ignored (each adds a phrase to
/// match, and nobody types twenty words into a search box on purpose).
pub const MAX_TERMS: usize = 16;
/// Tokens of context in a snippet (FTS5 allows up to 64).
const SNIPPET_TOKENS: i32 = 16;
/// Around each match in a snippet, before escaping: C0 controls, which
/// `MessageBody::parse` keeps out of bodies.
const MARK_START: char = '\u{2}';
const MARK_END: char = '\u{3}';

/// The search: matches of `?1` in rooms user `?2` may read (public, or a
/// member), optionally only room `?3` and ids below `?4`, best first (bm25;
/// ties newest first), `?5` rows from `?6`.
const SEARCH_SQL: &str = "
SELECT m.id AS id, r.name AS room, m.seq AS seq, u.name AS user_name,
       m.body AS body, m.created_at AS created_at,
       snippet(messages_fts, 0, char(2), char(3), '…', ?7) AS snippet
FROM messages_fts
JOIN messages m ON m.id = messages_fts.rowid
JOIN rooms r ON r.id = m.room_id
JOIN users u ON u.id = m.user_id
WHERE messages_fts MATCH ?1
  AND m.deleted_at IS NULL
  AND (r.kind = 'public'
       OR EXISTS (SELECT 1 FROM room_members rm WHERE rm.room_id = r.id AND rm.user_id = ?2))
  AND (?3 IS NULL OR m.room_id = ?3)
  AND (?4 IS NULL OR m.id < ?4)
ORDER BY bm25(messages_fts), m.id DESC
LIMIT ?5 OFFSET ?6";

/// Words to search for, as an FTS5 query that cannot be a syntax error:
/// each word quoted as an FTS5 string (`"` doubled), all of them required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerms {
    fts: String,
    words: Vec<String>,
}

impl SearchTerms {
    /// `None` when nothing searchable is left: no word with a letter or a
    /// digit (the index holds nothing else, so such words could not match).
    pub fn parse(raw: &str) -> Option<SearchTerms> {
        // Control characters separate words too: a NUL would end the
        // query string early for SQLite ("unterminated string").
        let words: Vec<String> = raw
            .split(|c: char| c.is_whitespace() || c.is_control())
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .take(MAX_TERMS)
            .map(str::to_string)
            .collect();
        if words.is_empty() {
            return None;
        }
        let fts = words
            .iter()
            .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(" ");
        Some(SearchTerms { fts, words })
    }

    /// The FTS5 query expression.
    pub fn as_fts(&self) -> &str {
        &self.fts
    }

    /// The words searched for, as typed.
    pub fn words(&self) -> &[String] {
        &self.words
    }
}

/// Which matches, and which page of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchFilter {
    /// Only this room (already checked to be readable by the caller).
    pub room_id: Option<i32>,
    /// Only messages with `id < before` (SPEC §8's `before=ID`).
    pub before: Option<i32>,
    /// 1-based.
    pub page: u32,
}

/// One match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub id: i32,
    pub room: String,
    pub seq: i64,
    pub user: String,
    pub body: String,
    pub created_at: i64,
    /// HTML: escaped text of the body around the match, with `<mark>`
    /// around the matched words. Safe to insert as it is.
    pub snippet_html: String,
}

/// A page of matches, and whether another page follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    pub has_next: bool,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    room: String,
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Text)]
    user_name: String,
    #[diesel(sql_type = Text)]
    body: String,
    #[diesel(sql_type = BigInt)]
    created_at: i64,
    #[diesel(sql_type = Text)]
    snippet: String,
}

/// Matches of `terms` in the rooms `user_id` may read, best first.
pub fn search(
    conn: &mut Conn,
    user_id: i32,
    terms: &SearchTerms,
    filter: SearchFilter,
) -> QueryResult<SearchPage> {
    let offset = i64::from(filter.page.max(1) - 1) * PAGE_SIZE;
    let mut rows: Vec<Row> = diesel::sql_query(SEARCH_SQL)
        .bind::<Text, _>(terms.as_fts())
        .bind::<Integer, _>(user_id)
        .bind::<Nullable<Integer>, _>(filter.room_id)
        .bind::<Nullable<Integer>, _>(filter.before)
        // One more than a page: is there a next one?
        .bind::<BigInt, _>(PAGE_SIZE + 1)
        .bind::<BigInt, _>(offset)
        .bind::<Integer, _>(SNIPPET_TOKENS)
        .load(conn)?;
    let has_next = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let hits = rows
        .into_iter()
        .map(|row| SearchHit {
            snippet_html: highlight(&row.snippet, &row.body),
            id: row.id,
            room: row.room,
            seq: row.seq,
            user: row.user_name,
            body: row.body,
            created_at: row.created_at,
        })
        .collect();
    Ok(SearchPage { hits, has_next })
}

/// Escape first, then mark. A body that somehow holds the marker
/// characters (stored before they were refused, or an upload caption) gets
/// no marks rather than wrong ones.
fn highlight(snippet: &str, body: &str) -> String {
    if body.contains([MARK_START, MARK_END]) {
        return escape_html(&snippet.replace([MARK_START, MARK_END], ""));
    }
    escape_html(snippet)
        .replace(MARK_START, "<mark>")
        .replace(MARK_END, "</mark>")
}

/// Names of the rooms `user_id` may read, alphabetically: the search form's
/// room choice.
pub fn readable_rooms(conn: &mut Conn, user_id: i32) -> QueryResult<Vec<String>> {
    rooms::table
        .filter(super::rooms::readable_by(user_id))
        .order(rooms::name_key.asc())
        .select(rooms::name)
        .load(conn)
}

/// The ids of the first page of `user_id`'s results for `q` (none if `q`
/// has no terms), for tests here and of the writer's indexing.
#[cfg(test)]
pub(crate) fn hit_ids(conn: &mut Conn, user_id: i32, q: &str, room_id: Option<i32>) -> Vec<i32> {
    let Some(terms) = SearchTerms::parse(q) else {
        return Vec::new();
    };
    let filter = SearchFilter {
        room_id,
        before: None,
        page: 1,
    };
    search(conn, user_id, &terms, filter)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Durability;
    use crate::db::models::NewMessage;
    use crate::db::{messages, now_ms, run_migrations, SqliteSetup};
    use diesel::connection::SimpleConnection;

    struct Db {
        conn: Conn,
        _dir: tempfile::TempDir,
    }

    fn db() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = SqliteSetup {
            durability: Durability::Relaxed,
        }
        .open(path.to_str().unwrap())
        .unwrap();
        run_migrations(&mut conn).unwrap();
        conn.batch_execute(
            "INSERT INTO users (id, name, name_key, password_hash, created_at) VALUES
               (1, 'Ann', 'ann', 'x', 0), (2, 'Bob', 'bob', 'x', 0), (3, 'Eve', 'eve', 'x', 0);
             INSERT INTO rooms (id, name, name_key, created_at) VALUES
               (1, 'General', 'general', 0), (2, 'random', 'random', 0);
             INSERT INTO rooms (id, name, name_key, created_at, kind, dm_key) VALUES
               (3, 'ann-bob', 'ann-bob', 0, 'dm', '1,2');
             INSERT INTO room_members (room_id, user_id) VALUES (3, 1), (3, 2);",
        )
        .unwrap();
        Db { conn, _dir: dir }
    }

    fn post(conn: &mut Conn, room_id: i32, user_id: i32, body: &str) -> i32 {
        let seq = messages::last_seq(conn, room_id).unwrap() + 1;
        messages::set_last_seq(conn, room_id, seq).unwrap();
        let id = messages::last_id(conn).unwrap() + 1;
        messages::insert(
            conn,
            &NewMessage {
                id,
                room_id,
                seq,
                user_id,
                body,
                created_at: now_ms(),
                client_id: None,
                upload_id: None,
                reply_to: None,
            },
        )
        .unwrap();
        messages::index_new(conn, id).unwrap();
        id
    }

    fn find(conn: &mut Conn, user_id: i32, q: &str) -> Vec<i32> {
        hit_ids(conn, user_id, q, None)
    }

    #[test]
    fn the_bundled_sqlite_supports_fts5_secure_delete() {
        let mut db = db();
        #[derive(QueryableByName)]
        struct Value {
            #[diesel(sql_type = Text)]
            v: String,
        }
        let version: Value = diesel::sql_query("SELECT sqlite_version() AS v")
            .get_result(&mut db.conn)
            .unwrap();
        let parts: Vec<u32> = version.v.split('.').map(|p| p.parse().unwrap()).collect();
        assert!(
            parts[0] > 3 || (parts[0] == 3 && parts[1] >= 42),
            "{}",
            version.v
        );
        let setting: Value = diesel::sql_query(
            "SELECT CAST(v AS TEXT) AS v FROM messages_fts_config WHERE k = 'secure-delete'",
        )
        .get_result(&mut db.conn)
        .unwrap();
        assert_eq!(setting.v, "1");
    }

    #[test]
    fn input_words_are_quoted_so_fts_syntax_is_just_text() {
        let fts = |q: &str| SearchTerms::parse(q).map(|t| t.as_fts().to_string());
        assert_eq!(fts("hello world").as_deref(), Some("\"hello\" \"world\""));
        assert_eq!(fts("say \"hi\"").as_deref(), Some("\"say\" \"\"\"hi\"\"\""));
        assert_eq!(fts("NEAR(a b)").as_deref(), Some("\"NEAR(a\" \"b)\""));
        assert_eq!(fts("   ").as_deref(), None);
        assert_eq!(fts("a\u{0}b").as_deref(), Some("\"a\" \"b\""));
        assert_eq!(fts("\" * - ( ) : ^").as_deref(), None);
        let many = "w ".repeat(MAX_TERMS + 5);
        assert_eq!(SearchTerms::parse(&many).unwrap().words().len(), MAX_TERMS);
    }

    #[test]
    fn fts_operator_characters_never_cause_an_error() {
        let mut db = db();
        post(&mut db.conn, 1, 1, "alpha beta gamma: NEAR the AND OR not");
        for q in [
            "\"",
            "\"alpha",
            "alpha*",
            "*",
            "NEAR(",
            "NEAR(alpha beta)",
            "AND OR",
            "alpha AND",
            "OR",
            "NOT alpha",
            "(",
            ")",
            "-alpha",
            "-",
            "body:alpha",
            ":",
            "^alpha",
            "^",
            "alpha + beta",
            "{alpha}",
            "[x]",
            "'",
            "\\",
            "\u{1F600}",
            "ça",
            "日本語",
            "a\"b\"c",
            "\"\"\"\"",
            "alpha\u{0}beta",
        ] {
            let terms = SearchTerms::parse(q);
            if let Some(terms) = terms {
                let filter = SearchFilter {
                    room_id: None,
                    before: None,
                    page: 1,
                };
                search(&mut db.conn, 1, &terms, filter).unwrap_or_else(|e| panic!("{q}: {e}"));
            }
        }
        assert_eq!(find(&mut db.conn, 1, "NEAR(").len(), 1);
        assert_eq!(find(&mut db.conn, 1, "AND OR").len(), 1);
        assert_eq!(find(&mut db.conn, 1, "gamma:").len(), 1);
    }

    #[test]
    fn words_are_found_in_any_case_and_without_diacritics() {
        let mut db = db();
        let id = post(&mut db.conn, 1, 1, "Meet at the Café tomorrow");
        post(&mut db.conn, 1, 1, "something else");
        assert_eq!(find(&mut db.conn, 2, "cafe"), vec![id]);
        assert_eq!(find(&mut db.conn, 2, "CAFÉ meet"), vec![id]);
        assert_eq!(find(&mut db.conn, 2, "cafe nowhere"), Vec::<i32>::new());
    }

    #[test]
    fn better_matches_rank_first_and_ties_are_newest_first() {
        let mut db = db();
        let weak = post(
            &mut db.conn,
            1,
            1,
            "deploy went fine, then we had lunch and a long walk in the park",
        );
        let strong = post(&mut db.conn, 1, 1, "deploy deploy deploy");
        let tie_old = post(&mut db.conn, 2, 1, "deploy now please");
        let tie_new = post(&mut db.conn, 2, 2, "deploy now please");
        let found = find(&mut db.conn, 1, "deploy");
        assert_eq!(found[0], strong);
        assert_eq!(*found.last().unwrap(), weak);
        let old_at = found.iter().position(|id| *id == tie_old).unwrap();
        let new_at = found.iter().position(|id| *id == tie_new).unwrap();
        assert_eq!(new_at + 1, old_at);
    }

    #[test]
    fn pages_hold_twenty_and_say_whether_more_follow() {
        let mut db = db();
        for n in 0..45 {
            post(&mut db.conn, 1, 1, &format!("needle number {n}"));
        }
        let terms = SearchTerms::parse("needle").unwrap();
        let mut seen = Vec::new();
        for (page, more) in [(1, true), (2, true), (3, false)] {
            let filter = SearchFilter {
                room_id: None,
                before: None,
                page,
            };
            let found = search(&mut db.conn, 1, &terms, filter).unwrap();
            assert_eq!(found.has_next, more, "page {page}");
            seen.extend(found.hits.into_iter().map(|h| h.id));
        }
        assert_eq!(seen.len(), 45);
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 45, "no message on two pages");

        let filter = SearchFilter {
            room_id: None,
            before: Some(10),
            page: 1,
        };
        let before = search(&mut db.conn, 1, &terms, filter).unwrap();
        assert_eq!(before.hits.len(), 9);
        assert!(before.hits.iter().all(|h| h.id < 10));
    }

    #[test]
    fn the_room_filter_keeps_one_room() {
        let mut db = db();
        let general = post(&mut db.conn, 1, 1, "lunch plans");
        let random = post(&mut db.conn, 2, 1, "lunch plans too");
        assert_eq!(hit_ids(&mut db.conn, 1, "lunch", Some(1)), vec![general]);
        assert_eq!(hit_ids(&mut db.conn, 1, "lunch", Some(2)), vec![random]);
    }

    /// The room called `name` if `user_id` may read it, through the shared
    /// lookup and access check the search page uses.
    fn readable_room(
        conn: &mut Conn,
        user_id: i32,
        name: &str,
    ) -> QueryResult<Option<(i32, String)>> {
        let Some(room) = crate::db::rooms::find_by_name(conn, name)? else {
            return Ok(None);
        };
        let readable = crate::db::rooms::can_read(conn, &room, user_id)?;
        Ok(readable.then_some((room.id, room.name)))
    }

    #[test]
    fn private_rooms_are_searched_only_by_their_members() {
        let mut db = db();
        let public = post(&mut db.conn, 1, 1, "secret plans in public");
        let private = post(&mut db.conn, 3, 1, "secret plans in private");
        let mut for_ann = find(&mut db.conn, 1, "secret");
        for_ann.sort_unstable();
        assert_eq!(for_ann, vec![public, private]);
        assert_eq!(find(&mut db.conn, 2, "private").len(), 1);
        assert_eq!(find(&mut db.conn, 3, "secret"), vec![public]);
        // Even naming the room does not help an outsider.
        assert_eq!(
            hit_ids(&mut db.conn, 3, "secret", Some(3)),
            Vec::<i32>::new()
        );

        assert_eq!(readable_room(&mut db.conn, 3, "ann-bob").unwrap(), None);
        assert_eq!(
            readable_room(&mut db.conn, 2, "ANN-BOB").unwrap(),
            Some((3, "ann-bob".to_string()))
        );
        assert_eq!(
            readable_room(&mut db.conn, 3, "general")
                .unwrap()
                .map(|r| r.0),
            Some(1)
        );
        assert_eq!(
            readable_rooms(&mut db.conn, 3).unwrap(),
            vec!["General", "random"]
        );
        assert_eq!(
            readable_rooms(&mut db.conn, 1).unwrap(),
            vec!["ann-bob", "General", "random"]
        );
    }

    #[test]
    fn an_edited_message_is_found_by_its_new_words_only() {
        let mut db = db();
        let id = post(&mut db.conn, 1, 1, "the meeting is on monday");
        diesel::sql_query(
            "UPDATE messages SET body = 'the meeting is on tuesday', edited_at = 1 WHERE id = ?",
        )
        .bind::<Integer, _>(id)
        .execute(&mut db.conn)
        .unwrap();
        assert_eq!(find(&mut db.conn, 1, "monday"), Vec::<i32>::new());
        assert_eq!(find(&mut db.conn, 1, "tuesday"), vec![id]);
        assert_eq!(find(&mut db.conn, 1, "meeting"), vec![id]);
    }

    #[test]
    fn a_deleted_message_is_not_found_and_its_words_leave_the_index() {
        let mut db = db();
        let kept = post(&mut db.conn, 1, 1, "ordinary words");
        let gone = post(&mut db.conn, 1, 1, "zanzibarian ordinary words");
        let blob_has = |conn: &mut Conn, word: &str| -> bool {
            #[derive(QueryableByName)]
            struct Count {
                #[diesel(sql_type = BigInt)]
                n: i64,
            }
            let hits: Count = diesel::sql_query(
                "SELECT count(*) AS n FROM messages_fts_data WHERE instr(block, CAST(? AS BLOB)) > 0",
            )
            .bind::<Text, _>(word)
            .get_result(conn)
            .unwrap();
            hits.n > 0
        };
        assert!(
            blob_has(&mut db.conn, "zanzibarian"),
            "the test looks in the right place"
        );
        diesel::sql_query("UPDATE messages SET body = '', deleted_at = 1 WHERE id = ?")
            .bind::<Integer, _>(gone)
            .execute(&mut db.conn)
            .unwrap();
        assert_eq!(find(&mut db.conn, 1, "zanzibarian"), Vec::<i32>::new());
        assert_eq!(find(&mut db.conn, 1, "ordinary"), vec![kept]);
        assert!(
            !blob_has(&mut db.conn, "zanzibarian"),
            "secure-delete removed the word"
        );
    }

    #[test]
    fn a_tombstone_with_its_body_still_present_is_not_a_result() {
        // Whatever order the writer sets `deleted_at` and clears the body in,
        // a deleted message is never shown.
        let mut db = db();
        let id = post(&mut db.conn, 1, 1, "soon deleted");
        diesel::sql_query("UPDATE messages SET deleted_at = 1 WHERE id = ?")
            .bind::<Integer, _>(id)
            .execute(&mut db.conn)
            .unwrap();
        assert_eq!(find(&mut db.conn, 1, "deleted"), Vec::<i32>::new());
    }

    #[test]
    fn deleting_a_row_removes_it_from_the_index() {
        let mut db = db();
        let id = post(&mut db.conn, 1, 1, "ephemeral row");
        diesel::sql_query("DELETE FROM messages WHERE id = ?")
            .bind::<Integer, _>(id)
            .execute(&mut db.conn)
            .unwrap();
        assert_eq!(find(&mut db.conn, 1, "ephemeral"), Vec::<i32>::new());
        db.conn
            .batch_execute("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")
            .unwrap();
    }

    #[test]
    fn snippets_are_escaped_first_then_marked() {
        let mut db = db();
        post(
            &mut db.conn,
            1,
            1,
            "<script>alert(1)</script> and <mark>fake</mark> & target",
        );
        let terms = SearchTerms::parse("target").unwrap();
        let filter = SearchFilter {
            room_id: None,
            before: None,
            page: 1,
        };
        let hit = search(&mut db.conn, 1, &terms, filter)
            .unwrap()
            .hits
            .remove(0);
        assert_eq!(
            hit.snippet_html,
            "&lt;script&gt;alert(1)&lt;/script&gt; and &lt;mark&gt;fake&lt;/mark&gt; &amp; <mark>target</mark>"
        );
    }

    #[test]
    fn a_body_holding_the_marker_characters_gets_no_marks() {
        assert_eq!(
            highlight("a \u{2}b\u{3} <c>", "a b \u{2}<c>"),
            "a b &lt;c&gt;"
        );
        assert_eq!(highlight("a \u{2}b\u{3}", "a b"), "a <mark>b</mark>");
    }
}
