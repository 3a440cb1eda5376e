//! The editor's session against the server's own protocol core (`arbor_collab::Room`, with
//! its ledger of durable acknowledgement), with frames carried in memory and a disk that
//! stores accepted updates a moment later: what the browser and the server say to each other,
//! minus the socket. The browser runs of the same code are in
//! `end2end/tests/live-editing.spec.ts`.

use arbor_collab::{Access, ConnId, Document, Room};
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
    /// Updates stored, in order, as the server's log holds them.
    stored: Vec<Vec<u8>>,
    /// Accepted updates on their way to the disk, with their numbers in the room's ledger.
    writing: Vec<(u64, Vec<u8>)>,
    /// The disk takes nothing while stalled.
    stalled: bool,
}

impl Net {
    fn new() -> Net {
        Net {
            room: Room::default(),
            people: Vec::new(),
            to_client: Vec::new(),
            to_server: Vec::new(),
            stored: Vec::new(),
            writing: Vec::new(),
            stalled: false,
        }
    }

    /// Stores what is being written and sends the acknowledgements that waited for it.
    fn commit(&mut self) {
        for (number, update) in std::mem::take(&mut self.writing) {
            self.stored.push(update);
            for (conn, frame) in self.room.durable(number) {
                self.to_client.push((conn as usize, frame));
            }
        }
    }

    /// The server dies: what was not stored yet is gone, everyone is disconnected, and the
    /// room comes back from the stored log.
    fn crash(&mut self) {
        self.writing.clear();
        for i in 0..self.people.len() {
            if self.people[i].2 {
                self.disconnect(i);
            }
        }
        let document = Document::load(None, self.stored.iter().map(Vec::as_slice))
            .expect("the stored log loads");
        self.room = Room::new(document, Default::default());
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

    /// Delivers everything in flight, in order, with the disk storing whatever was accepted
    /// whenever the network is quiet (unless stalled), until nothing is left.
    fn pump(&mut self) {
        loop {
            self.deliver();
            if self.stalled || self.writing.is_empty() {
                return;
            }
            self.commit();
        }
    }

    fn deliver(&mut self) {
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
                    self.writing.push((effects.number, update));
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

// The map's session: the same conversation over a subject's structure.

fn mapper(name: &str, read_only: bool) -> Session {
    Session::for_map(
        User {
            name: name.into(),
            color: color_for(name),
        },
        read_only,
        clock,
    )
}

const ROOT: i64 = 1;

/// A room holding a map with the root and topics 2, 3 and 4 under it, as the server seeds it.
fn map_net() -> Net {
    let mut document = arbor_collab::Document::default();
    let structure = document.read(arbor_map::Structure::new);
    let nodes = [(2, ROOT, "Two"), (3, ROOT, "Three"), (4, ROOT, "Four")];
    document
        .change(|txn| structure.seed(txn, ROOT, "Root", &nodes))
        .0
        .unwrap();
    Net {
        room: Room::new(document, arbor_collab::Limits::default()),
        ..Net::new()
    }
}

impl Net {
    fn change_map(
        &mut self,
        i: usize,
        f: impl FnOnce(
            &arbor_map::Structure,
            &mut yrs::TransactionMut,
        ) -> Result<(), arbor_map::MapError>,
    ) {
        let ((), frames) = self.people[i].0.change_map(f).expect("a change");
        self.send(i, frames);
    }

    fn tree(&self, i: usize) -> std::sync::Arc<arbor_map::Tree> {
        self.people[i].0.tree().expect("the map arrived")
    }
}

#[test]
fn map_editors_restructure_at_once_and_converge() {
    let mut net = map_net();
    let a = net.join(mapper("ada", false));
    let b = net.join(mapper("bob", false));
    net.pump();
    assert_eq!(net.tree(a).nodes[&ROOT].children, vec![2, 3, 4]);
    net.change_map(a, |s, txn| s.add(txn, 10, 2, 0, "Child of two"));
    net.change_map(b, |s, txn| s.rename(txn, 3, "Three, renamed"));
    net.pump();
    assert_eq!(net.tree(a), net.tree(b));
    assert_eq!(net.tree(b).nodes[&10].parent, Some(2));
    // A under B here, B under A there, before either hears of the other: one valid tree.
    net.change_map(a, |s, txn| s.move_to(txn, 2, 3, 0));
    net.change_map(b, |s, txn| s.move_to(txn, 3, 2, 0));
    net.pump();
    let tree = net.tree(a);
    assert_eq!(tree, net.tree(b));
    assert!(tree.is_within(2, 3) != tree.is_within(3, 2));
    assert!(tree.is_within(10, 2), "the subtree moved with its top");
    // What the server holds resolves to the same tree.
    let server = net
        .room
        .document
        .read(|doc| arbor_map::Structure::new(doc).read(&yrs::Transact::transact(doc)));
    assert_eq!(server.as_ref(), Some(&*tree));
}

#[test]
fn map_undo_takes_back_only_your_own_changes() {
    let mut net = map_net();
    let a = net.join(mapper("ada", false));
    let b = net.join(mapper("bob", false));
    net.pump();
    net.change_map(a, |s, txn| s.add(txn, 20, ROOT, 9, "Ada's"));
    net.change_map(a, |s, txn| s.move_to(txn, 4, 2, 0));
    net.pump();
    net.change_map(b, |s, txn| s.add(txn, 30, ROOT, 9, "Bob's"));
    net.change_map(b, |s, txn| s.delete(txn, 3, 5));
    net.pump();
    // Ada's last change (the move) is undone, then her add; Bob's changes stay.
    let frames = net.people[a].0.undo().expect("something to undo");
    net.send(a, frames);
    net.pump();
    assert_eq!(net.tree(b).nodes[&4].parent, Some(ROOT));
    assert!(net.tree(a).nodes.contains_key(&20));
    let frames = net.people[a].0.undo().expect("the add");
    // Undoing an add only deletes (the state vector stays): the tree Ada sees is not stale.
    assert!(!net.tree(a).nodes.contains_key(&20));
    net.send(a, frames);
    net.pump();
    let tree = net.tree(b);
    assert!(!tree.nodes.contains_key(&20) && !tree.trash.contains_key(&20));
    assert!(tree.nodes.contains_key(&30) && tree.trash.contains_key(&3));
    assert_eq!(
        net.people[a].0.undo(),
        None,
        "nothing of Ada's is left to undo"
    );
    // Bob undoes his delete: the topic is back; redo sends it to the trash again.
    let frames = net.people[b].0.undo().expect("the delete");
    net.send(b, frames);
    net.pump();
    assert!(net.tree(a).nodes.contains_key(&3));
    let frames = net.people[b].0.redo().expect("the delete again");
    net.send(b, frames);
    net.pump();
    assert!(net.tree(a).trash.contains_key(&3));
    assert_eq!(net.tree(a), net.tree(b));
}

#[test]
fn map_viewers_follow_and_selections_are_shared() {
    let mut net = map_net();
    let a = net.join(mapper("ada", false));
    let v = net.join(mapper("vic", true));
    net.pump();
    assert_eq!(
        net.people[v]
            .0
            .change_map(|s, txn| s.rename(txn, 2, "nope"))
            .err(),
        Some(arbor_editor::session::MapRefusal::ReadOnly)
    );
    assert_eq!(
        net.people[a]
            .0
            .change_map(|s, txn| s.move_to(txn, ROOT, 2, 0))
            .err(),
        Some(arbor_editor::session::MapRefusal::Map(
            arbor_map::MapError::Root
        ))
    );
    let frame = net.people[a].0.select(Some(3)).expect("a presence frame");
    net.send(a, vec![frame]);
    net.pump();
    let seen = net.people[v].0.selections();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].0.name.as_str(), seen[0].1), ("ada", 3));
    assert_eq!(
        net.people[a].0.select(Some(3)),
        None,
        "unchanged: nothing to send"
    );
    net.change_map(a, |s, txn| s.rename(txn, 2, "Seen by the viewer"));
    net.pump();
    assert_eq!(net.tree(v).nodes[&2].title, "Seen by the viewer");
}

#[test]
fn an_edit_counts_as_saved_only_once_stored_and_a_crash_before_that_loses_nothing() {
    let mut net = Net::new();
    let a = net.join(person("ada", false));
    let b = net.join(person("bob", false));
    net.pump();
    net.edit(a, "stored\n");
    net.pump();
    net.confirm(a);
    net.pump();
    assert_eq!(net.people[a].0.saved(), Saved::All);

    // The disk stalls: the edit reaches Bob at once, but Ada's question goes unanswered.
    net.stalled = true;
    net.edit(a, "stored\nin flight\n");
    net.pump();
    net.confirm(a);
    net.pump();
    assert_eq!(net.text(b), "stored\nin flight\n");
    assert_eq!(net.people[a].0.saved(), Saved::Pending, "not on disk yet");

    // The server dies before storing it; it comes back with what the disk holds.
    net.crash();
    assert_eq!(net.room.document.text(arbor_collab::TEXT), "stored\n");
    net.stalled = false;
    net.connect(a);
    net.connect(b);
    net.pump();
    // Ada still held the edit and sent it again on reconnecting; now it is stored.
    assert_eq!(net.people[a].0.saved(), Saved::All);
    assert_eq!(net.text(a), "stored\nin flight\n");
    assert_eq!(net.text(b), net.text(a));
    let reread = Document::load(None, net.stored.iter().map(Vec::as_slice)).unwrap();
    assert_eq!(reread.text(arbor_collab::TEXT), "stored\nin flight\n");
}
