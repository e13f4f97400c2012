//! The `ChatServer` with stand-in members instead of WebSocket sessions.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use super::*;
use crate::config::Config;

/// Stands in for a `WsSession`: counts the room events it takes.
struct Member {
    inbox: Arc<Inbox>,
    taken: Arc<AtomicUsize>,
}

impl Actor for Member {
    type Context = Context<Self>;
}

impl Handler<ToSession> for Member {
    type Result = ();

    fn handle(&mut self, msg: ToSession, _: &mut Self::Context) {
        if let ToSession::Events = msg {
            let mut batches = Vec::new();
            self.inbox.take_into(&mut batches);
            let events: usize = batches.iter().map(|b| b.events.len()).sum();
            self.taken.fetch_add(events, Ordering::SeqCst);
        }
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Quit;

impl Handler<Quit> for Member {
    type Result = ();

    fn handle(&mut self, _: Quit, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

async fn member(server: &Addr<ChatServer>, n: i32) -> (Addr<Member>, Arc<AtomicUsize>) {
    let inbox = Arc::new(Inbox::new(4096));
    let taken = Arc::new(AtomicUsize::new(0));
    let addr = Member {
        inbox: inbox.clone(),
        taken: taken.clone(),
    }
    .start();
    let session_id = server
        .send(Connect {
            session: addr.clone().recipient(),
            inbox,
            user_id: n,
            user_name: format!("member{n}"),
            token_hash: format!("token{n}"),
            ip: None,
        })
        .await
        .unwrap()
        .unwrap();
    server
        .send(Join {
            session_id,
            room_id: 1,
            room_name: "general".into(),
        })
        .await
        .unwrap();
    (addr, taken)
}

#[actix_web::test]
async fn a_member_that_has_stopped_is_not_dropped_as_a_slow_consumer() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::for_tests(dir.path().to_path_buf());
    db::prepare(&config).unwrap();
    let metrics = Metrics::new();
    let limits = ConnectionLimits {
        per_user: usize::MAX,
        per_ip: usize::MAX,
        session_check: Duration::from_secs(3600),
    };
    let server = ChatServer::new(limits, db::build_pool(&config).unwrap(), metrics.clone()).start();
    let (_alive, alive_taken) = member(&server, 1).await;
    let (gone, _) = member(&server, 2).await;
    // Stopped, and its Disconnect not sent yet: as when many clients
    // leave at once and the ChatServer is behind.
    gone.send(Quit).await.unwrap();
    while gone.connected() {
        actix::clock::sleep(Duration::from_millis(5)).await;
    }
    server
        .send(Publish {
            events: vec![RoomEvent {
                room_id: 1,
                seq: 1,
                frame: "{}".into(),
                unread: None,
            }],
            committed_at: Instant::now(),
        })
        .await
        .unwrap();
    while alive_taken.load(Ordering::SeqCst) == 0 {
        actix::clock::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(metrics.slow_consumers_dropped.get(), 0);
    assert_eq!(
        metrics.messages_delivered.get(),
        1,
        "counted for the live member only"
    );
}
