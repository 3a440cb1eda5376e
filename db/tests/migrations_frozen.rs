//! Landed migrations are frozen: a database that applied one records its checksum, and sqlx
//! refuses to start against it once the file changes (and a replica running the old text would
//! disagree with one running the new). This holds the checksum sqlx computes (SHA-384 of the
//! file, as embedded by `sqlx::migrate!`) of every migration that has landed on main. Change
//! the schema with a new migration; when it lands, add its line here.

use sqlx::migrate::Migrator;

/// `(version, SHA-384 hex)` of each landed migration, per backend.
const SQLITE: &[(i64, &str)] = &[
    (
        1,
        "0f697342e04b45f7d3ebd0283710e93d2a3823d31e8854e87e1a751b3a8ed33d872ef8e9736ae948169501a64b5b5494",
    ),
    (
        2,
        "2f029c7cb89a2d9718058631a16e1b26eda5203702f7e2799880ce1cdce262fb5e2f0c41cff847e5175f930f54e02cbc",
    ),
    (
        3,
        "c20440860345e5dc81468b14c95a925e6d9749a8741c86841eab469b218e0034b47291fcb138345c23be57d98266ff6e",
    ),
    (
        4,
        "524c6ef4d0d7ba08a0c61da1e9f4d5f8b1e9b5846f6190a81dd9f667436e7a72429357083dfa0e077d55db5d426cf889",
    ),
    (
        5,
        "9debb37f73bf0eec7c51e9d56688b653919a0e0cad74ad7bf64105e746407cbb9a6df8c05da3195b24efc662875207f2",
    ),
];

const POSTGRES: &[(i64, &str)] = &[
    (
        1,
        "68ce7f1eb818c4699b501d9267da925292ff65a853071411a1b8983f8c7f3d869f97ab9a92734a557664a02a66d7eae0",
    ),
    (
        2,
        "59a6383ea717bd2d96a732b2b20f57b3a6c06eba1f40a60895ce71f406177a27252f533f6f0fd62ee9067e618a25a997",
    ),
    (
        3,
        "08169d67c87c9ac3a4cee7075ba4bb9d9716c9c800e0f09d8b2df72deaf9e3e37767c2414b544e02198014504587a463",
    ),
    (
        4,
        "ef63247a095eff4d5865a0c23f2028c80e587637cb14f5ff9bf230ff297d34cc090038141cf3939a0f482dfdaa67fe10",
    ),
    (
        5,
        "9debb37f73bf0eec7c51e9d56688b653919a0e0cad74ad7bf64105e746407cbb9a6df8c05da3195b24efc662875207f2",
    ),
];

fn check(backend: &str, migrator: &Migrator, landed: &[(i64, &str)]) {
    let found: Vec<(i64, String)> = migrator
        .iter()
        .map(|m| {
            let hex = m.checksum.iter().map(|b| format!("{b:02x}")).collect();
            (m.version, hex)
        })
        .collect();
    for (version, checksum) in landed {
        match found.iter().find(|(v, _)| v == version) {
            None => panic!("{backend} migration {version} has landed and must not be removed"),
            Some((_, now)) => assert_eq!(
                now, checksum,
                "{backend} migration {version} has landed and must not change: add a new migration instead"
            ),
        }
    }
    for (version, checksum) in &found {
        assert!(
            landed.iter().any(|(v, _)| v == version),
            "{backend} migration {version} is new: once it lands, add ({version}, \"{checksum}\") to this test"
        );
    }
}

#[test]
fn landed_migrations_never_change() {
    check("sqlite", &sqlx::migrate!("../migrations/sqlite"), SQLITE);
    check(
        "postgres",
        &sqlx::migrate!("../migrations/postgres"),
        POSTGRES,
    );
}
