//! The editor's session against the server's own protocol core (`arbor_collab::Room`), with
//! frames carried in memory: what the browser and the server say to each other, minus the
//! socket. The browser runs of the same code are in `end2end/tests/live-editing.spec.ts`.

use arbor_collab::{Access, ConnId, Room};
use arbor_editor::session::{Saved, Session, User, color_for};

fn clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64
}

fn person(name: &str, read_only: bool) -> Session {
    Session::new(
        User {
            name: name.into(),
            color: color_for(name),
        },
        read_only,
        clock,
    )
}

/// A server room and the people connected to it; frames are delivered when `pump` runs.
struct Net {
    room: Room,
    people: Vec<(Session, Access, bool)>,
    /// (to connection, frame) not delivered yet.
    to_client: Vec<(usize, Vec<u8>)>,
    to_server: Vec<(usize, Vec<u8>)>,
}

impl Net {
    fn new() -> Net {
        Net {
            room: Room::default(),
            people: Vec::new(),
            to_client: Vec::new(),
            to_server: Vec::new(),
        }
    }

    fn join(&mut self, session: Session) -> usize {
        let access = if session.read_only() {
            Access::ReadOnly
        } else {
            Access::ReadWrite
        };
        self.people.push((session, access, false));
        let i = self.people.len() - 1;
        self.connect(i);
        i
    }

    fn connect(&mut self, i: usize) {
        self.people[i].2 = true;
        for frame in self.room.greeting() {
            self.to_client.push((i, frame));
        }
        let frames = self.people[i].0.opened();
        self.to_server.extend(frames.into_iter().map(|f| (i, f)));
    }

    fn disconnect(&mut self, i: usize) {
        self.people[i].2 = false;
        self.people[i].0.closed();
        self.to_client.retain(|(to, _)| *to != i);
        self.to_server.retain(|(from, _)| *from != i);
        if let Some(frame) = self.room.leave(i as ConnId, clock()) {
            self.broadcast(&frame, None);
        }
    }

    fn broadcast(&mut self, frame: &[u8], except: Option<usize>) {
        for (j, (_, _, online)) in self.people.iter().enumerate() {
            if *online && Some(j) != except {
                self.to_client.push((j, frame.to_vec()));
            }
        }
    }

    fn send(&mut self, i: usize, frames: Vec<Vec<u8>>) {
        if self.people[i].2 {
            self.to_server.extend(frames.into_iter().map(|f| (i, f)));
        }
    }

    /// Delivers everything in flight, in order, until nothing is left.
    fn pump(&mut self) {
        while !self.to_server.is_empty() || !self.to_client.is_empty() {
            for (from, frame) in std::mem::take(&mut self.to_server) {
                let access = self.people[from].1;
                let effects = self.room.receive(from as ConnId, access, &frame, clock());
                assert!(effects.close.is_none(), "closed: {:?}", effects.close);
                for reply in effects.reply {
                    self.to_client.push((from, reply));
                }
                if let Some(update) = effects.update {
                    self.broadcast(&arbor_collab::update_message(&update), Some(from));
                }
                if let Some(presence) = effects.presence {
                    self.broadcast(&presence, None);
                }
            }
            for (to, frame) in std::mem::take(&mut self.to_client) {
                let received = self.people[to].0.receive(&frame);
                self.send(to, received.replies);
            }
        }
    }

    fn edit(&mut self, i: usize, value: &str) {
        let frames = self.people[i].0.edit(value);
        self.send(i, frames);
    }

    fn confirm(&mut self, i: usize) {
        if let Some(frame) = self.people[i].0.confirm() {
            self.send(i, vec![frame]);
        }
    }

    fn text(&self, i: usize) -> String {
        self.people[i].0.text()
    }
}

#[test]
fn concurrent_typing_converges_and_is_confirmed() {
    let mut net = Net::new();
    let a = net.join(person("ada", false));
    let b = net.join(person("bob", false));
    net.pump();
    net.edit(a, "Hello world");
    net.pump();
    assert_eq!(net.text(b), "Hello world");
    // Both type before seeing the other's change.
    net.edit(a, "Hello brave world");
    net.edit(b, "Hello world 😀 日本語");
    net.pump();
    assert_eq!(net.text(a), "Hello brave world 😀 日本語");
    assert_eq!(net.text(a), net.text(b));
    assert_eq!(net.people[a].0.saved(), Saved::Pending);
    net.confirm(a);
    net.pump();
    assert_eq!(net.people[a].0.saved(), Saved::All);
    assert_eq!(net.room.document.text(arbor_collab::TEXT), net.text(a));
}

#[test]
fn undo_takes_back_only_your_own_change() {
    let mut net = Net::new();
    let a = net.join(person("ada", false));
    let b = net.join(person("bob", false));
    net.pump();
    net.edit(a, "one");
    net.pump();
    net.edit(b, "one two");
    net.pump();
    let frames = net.people[a].0.undo().expect("ada has something to undo");
    net.send(a, frames);
    net.pump();
    assert_eq!(net.text(a), " two");
    assert_eq!(net.text(b), " two");
    let frames = net.people[a].0.redo().expect("and to redo");
    net.send(a, frames);
    net.pump();
    assert_eq!(net.text(b), "one two");
    assert!(net.people[b].0.can_undo());
}

#[test]
fn offline_edits_merge_on_reconnect() {
    let mut net = Net::new();
    let a = net.join(person("ada", false));
    let b = net.join(person("bob", false));
    net.pump();
    net.edit(a, "line\n");
    net.pump();
    net.disconnect(a);
    net.edit(a, "line\noffline ✈\n");
    net.edit(b, "online\nline\n");
    net.pump();
    assert_eq!(net.people[a].0.unconfirmed(), 2);
    net.connect(a);
    net.pump();
    assert_eq!(net.text(a), "online\nline\noffline ✈\n");
    assert_eq!(net.text(b), net.text(a));
    // The reconnect itself asks for confirmation (after its sync step 2), and gets it.
    assert_eq!(net.people[a].0.saved(), Saved::All);
    assert!(
        net.people[a].0.confirm().is_none(),
        "nothing left to ask about"
    );
}

#[test]
fn a_viewer_follows_but_cannot_change_the_text() {
    let mut net = Net::new();
    let a = net.join(person("ada", false));
    let v = net.join(person("val", true));
    net.pump();
    net.edit(a, "draft");
    net.pump();
    assert_eq!(net.text(v), "draft");
    net.edit(v, "vandalised");
    net.pump();
    assert_eq!(net.text(v), "draft");
    assert!(net.people[v].0.undo().is_none());
}

#[test]
fn others_see_your_name_and_caret() {
    let mut net = Net::new();
    let a = net.join(person("ada", false));
    let b = net.join(person("bob", false));
    net.pump();
    net.edit(a, "abcdef");
    net.pump();
    let frame = net.people[b].0.move_caret(2, 4).expect("the caret moved");
    net.send(b, vec![frame]);
    net.pump();
    let carets = net.people[a].0.carets();
    assert_eq!(carets.len(), 1);
    assert_eq!(carets[0].user.name, "bob");
    assert_eq!((carets[0].anchor, carets[0].head), (2, 4));
    // The caret follows the text when someone types before it.
    net.edit(a, "XXabcdef");
    net.pump();
    let carets = net.people[a].0.carets();
    assert_eq!((carets[0].anchor, carets[0].head), (4, 6));
    let names: Vec<String> = net.people[a]
        .0
        .people()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["ada", "bob"]);
    // Leaving removes the person at once.
    let frame = net.people[b].0.leave();
    net.send(b, vec![frame]);
    net.pump();
    assert_eq!(net.people[a].0.people().len(), 1);
}

#[test]
fn the_local_caret_survives_remote_changes() {
    let mut net = Net::new();
    let a = net.join(person("ada", false));
    let b = net.join(person("bob", false));
    net.pump();
    net.edit(a, "hello");
    net.pump();
    let pins = net.people[a].0.pin([1, 5]).expect("in range");
    net.edit(b, ">> hello");
    net.pump();
    assert_eq!(net.people[a].0.unpin(&pins), Some([4, 8]));
    // At the very end, the caret stays at the end.
    let pins = net.people[a].0.pin([8, 8]).expect("at the end");
    net.edit(b, ">> hello world");
    net.pump();
    assert_eq!(net.people[a].0.unpin(&pins), Some([14, 14]));
}

#[test]
fn edits_kept_by_a_closed_page_reach_the_server_from_the_next_one() {
    let mut net = Net::new();
    let a = net.join(person("ada", false));
    let b = net.join(person("bob", false));
    net.pump();
    net.edit(a, "base\n");
    net.pump();
    net.disconnect(a);
    net.edit(a, "base\nwritten before the tab closed\n");
    let kept = net.people[a].0.export();
    net.edit(b, "bob was here\nbase\n");
    net.pump();

    // A new page: an empty session that takes the kept document back, then connects.
    let mut again = person("ada", false);
    assert!(again.import(&kept));
    assert_eq!(again.saved(), Saved::Pending);
    assert!(!again.can_undo(), "restored changes are not an undo step");
    let c = net.join(again);
    net.pump();
    assert_eq!(
        net.text(c),
        "bob was here\nbase\nwritten before the tab closed\n"
    );
    assert_eq!(net.text(b), net.text(c));
    assert_eq!(net.people[c].0.saved(), Saved::All);
    assert!(
        !person("val", true).import(&kept),
        "a viewer restores nothing"
    );
    assert!(!person("eve", false).import(b"not a document"));
}

#[test]
fn a_text_past_the_server_limit_is_refused_here() {
    let s = person("ada", false);
    let limit = arbor_collab::Limits::default().max_text;
    assert!(s.fits(&"x".repeat(limit)));
    assert!(!s.fits(&"x".repeat(limit + 1)));
    assert!(
        !s.fits(&"é".repeat(limit / 2 + 1)),
        "counted in UTF-8 bytes, as the server does"
    );
}
