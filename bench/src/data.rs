//! Generated catalogue data: vocabularies, skewed samplers and one subject's fields.
//!
//! Everything is derived from a seeded RNG, so a run with the same `--rng-seed`, `--users` and
//! `--subjects` produces the same database, and a `--skip-seed` run can rebuild the same pools
//! of query parameters (words, tags, usernames) without reading the data back.

use rand::Rng;
use rand::rngs::StdRng;

/// Technical words, roughly most common first: titles, summaries and topic text draw from this
/// list with a flat Zipf law over its order (exponent 0.5), so the first word is in about half
/// of all subjects, the 20th in about a sixth and the last in about one in twenty.
pub const VOCABULARY: &[&str] = &[
    "rust",
    "data",
    "web",
    "api",
    "async",
    "design",
    "testing",
    "python",
    "database",
    "cloud",
    "security",
    "performance",
    "javascript",
    "linux",
    "networking",
    "postgres",
    "kubernetes",
    "docker",
    "architecture",
    "caching",
    "concurrency",
    "algorithms",
    "typescript",
    "react",
    "machine",
    "learning",
    "systems",
    "distributed",
    "git",
    "sql",
    "http",
    "memory",
    "compiler",
    "functional",
    "programming",
    "microservices",
    "observability",
    "logging",
    "metrics",
    "tracing",
    "kafka",
    "redis",
    "events",
    "streaming",
    "queues",
    "scaling",
    "latency",
    "throughput",
    "storage",
    "indexes",
    "transactions",
    "consistency",
    "replication",
    "sharding",
    "backups",
    "migrations",
    "schema",
    "graphql",
    "rest",
    "grpc",
    "protocols",
    "tcp",
    "dns",
    "tls",
    "authentication",
    "authorization",
    "oauth",
    "tokens",
    "encryption",
    "hashing",
    "cryptography",
    "go",
    "java",
    "kotlin",
    "swift",
    "haskell",
    "ocaml",
    "elixir",
    "erlang",
    "scala",
    "clojure",
    "zig",
    "cpp",
    "wasm",
    "webassembly",
    "browser",
    "css",
    "html",
    "frontend",
    "backend",
    "fullstack",
    "devops",
    "ci",
    "deployment",
    "terraform",
    "ansible",
    "aws",
    "gcp",
    "azure",
    "serverless",
    "lambda",
    "containers",
    "virtualization",
    "kernel",
    "filesystems",
    "scheduling",
    "threads",
    "processes",
    "signals",
    "sockets",
    "epoll",
    "iouring",
    "futures",
    "tokio",
    "actors",
    "channels",
    "locks",
    "atomics",
    "lockfree",
    "parsing",
    "lexers",
    "grammars",
    "interpreters",
    "bytecode",
    "jit",
    "llvm",
    "optimization",
    "profiling",
    "benchmarking",
    "debugging",
    "fuzzing",
    "property",
    "refactoring",
    "patterns",
    "ownership",
    "borrowing",
    "lifetimes",
    "traits",
    "generics",
    "macros",
    "closures",
    "iterators",
    "errors",
    "monads",
    "types",
    "inference",
    "lambdas",
    "recursion",
    "graphs",
    "trees",
    "heaps",
    "hashmaps",
    "sorting",
    "searching",
    "dynamic",
    "greedy",
    "complexity",
    "probability",
    "statistics",
    "linear",
    "algebra",
    "calculus",
    "geometry",
    "numerics",
    "matrices",
    "vectors",
    "tensors",
    "neural",
    "networks",
    "training",
    "retrieval",
    "embeddings",
    "transformers",
    "attention",
    "datasets",
    "pandas",
    "numpy",
    "notebooks",
    "visualization",
    "dashboards",
    "analytics",
    "warehouse",
    "etl",
    "pipelines",
    "spark",
    "hadoop",
    "flink",
    "airflow",
    "dbt",
    "parquet",
    "arrow",
    "columnar",
    "olap",
    "oltp",
    "sqlite",
    "mysql",
    "mongodb",
    "cassandra",
    "dynamodb",
    "elasticsearch",
    "lucene",
    "fulltext",
    "ranking",
    "search",
    "recommendation",
    "personalization",
    "experiments",
    "abtesting",
    "product",
    "startup",
    "career",
    "interviews",
    "leadership",
    "teams",
    "agile",
    "scrum",
    "kanban",
    "estimation",
    "documentation",
    "writing",
    "reviews",
    "mentoring",
    "opensource",
    "licensing",
    "community",
    "accessibility",
    "usability",
    "ux",
    "ui",
    "animation",
    "graphics",
    "shaders",
    "opengl",
    "vulkan",
    "gamedev",
    "physics",
    "audio",
    "video",
    "codecs",
    "compression",
    "images",
    "embedded",
    "microcontrollers",
    "firmware",
    "arduino",
    "raspberry",
    "iot",
    "robotics",
    "sensors",
    "automotive",
    "realtime",
    "rtos",
    "fpga",
    "verilog",
    "hardware",
    "cpu",
    "gpu",
    "cuda",
    "simd",
    "cache",
    "pipelining",
    "branch",
    "prediction",
    "assembly",
    "x86",
    "arm",
    "riscv",
    "mobile",
    "android",
    "ios",
    "flutter",
    "electron",
    "desktop",
    "cli",
    "terminal",
    "shell",
    "bash",
    "vim",
    "emacs",
    "editors",
    "lsp",
    "tooling",
    "build",
    "cargo",
    "npm",
    "packaging",
    "versioning",
    "semver",
    "monorepo",
    "bazel",
    "nix",
    "reproducible",
    "blockchain",
    "consensus",
    "raft",
    "paxos",
    "crdt",
    "collaboration",
    "offline",
    "sync",
    "mindmaps",
    "zettelkasten",
    "knowledge",
    "pedagogy",
];

/// Words between the technical ones in summaries and topic text.
const FILLERS: &[&str] = &[
    "a",
    "the",
    "and",
    "with",
    "for",
    "to",
    "of",
    "in",
    "on",
    "how",
    "why",
    "from",
    "using",
    "into",
    "vs",
    "your",
    "at",
    "by",
    "an",
    "guide",
    "intro",
    "deep",
    "dive",
    "practical",
    "notes",
    "basics",
    "advanced",
    "tips",
    "when",
    "what",
];

/// Multi-word tags added to the tag pool after the first vocabulary words.
const COMPOUND_TAGS: &[&str] = &[
    "web-dev",
    "machine-learning",
    "system-design",
    "data-engineering",
    "distributed-systems",
    "functional-programming",
    "game-dev",
    "open-source",
    "dev-ops",
    "type-theory",
    "event-sourcing",
    "domain-driven-design",
    "clean-code",
    "test-driven",
    "code-review",
    "error-handling",
    "memory-safety",
    "async-io",
    "message-queues",
    "load-balancing",
    "rate-limiting",
    "feature-flags",
    "incident-response",
    "site-reliability",
    "on-call",
    "cost-control",
    "data-modeling",
    "query-planning",
    "full-text-search",
    "vector-search",
    "computer-vision",
    "natural-language",
    "reinforcement-learning",
    "deep-learning",
    "interview-prep",
    "career-growth",
    "technical-writing",
    "public-speaking",
    "side-projects",
    "home-lab",
    "self-hosting",
    "static-sites",
    "design-systems",
    "state-machines",
    "formal-methods",
    "model-checking",
    "zero-copy",
    "no-std",
    "embedded-rust",
    "beginner",
];

/// First names for generated accounts (`alice17`, …).
const NAMES: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yasmin", "zoe",
    "amir", "bea", "chen", "dmitri", "eva", "farid", "gita", "hugo", "ines", "jonas", "kenji",
    "lena", "marta", "noor", "oscar", "priya", "quinn", "rosa", "sami",
];

const SYLLABLES: &[&str] = &[
    "ka", "zo", "rin", "vex", "tal", "mor", "qui", "sel", "dra", "phi", "lox", "nu", "bre", "gan",
    "tor", "yel", "wis", "fen", "hax", "jun", "cor", "pla", "xen", "ube", "ost",
];

/// Number of tags in the pool: the first vocabulary words plus the compound ones.
pub const TAG_POOL: usize = 200;

/// Number of rare made-up words (project names and jargon) sprinkled into topic text.
pub const RARE_WORDS: usize = 3_000;

/// Milliseconds in the two years the subjects' times spread over.
pub const TWO_YEARS_MS: i64 = 2 * 365 * 24 * 3_600_000;

/// Draws indices `0..n` with probability proportional to `1 / (i + 1)^s`.
#[derive(Debug, Clone)]
pub struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    pub fn new(n: usize, s: f64) -> Self {
        let mut total = 0.0;
        let cumulative = (0..n)
            .map(|i| {
                total += 1.0 / ((i + 1) as f64).powf(s);
                total
            })
            .collect();
        Self { cumulative }
    }

    pub fn sample(&self, rng: &mut StdRng) -> usize {
        let total = *self.cumulative.last().expect("a non-empty distribution");
        let x = rng.random::<f64>() * total;
        self.cumulative
            .partition_point(|&c| c <= x)
            .min(self.cumulative.len() - 1)
    }
}

/// The word, tag and account pools shared by the seeder and the query generator.
#[derive(Debug, Clone)]
pub struct Pools {
    pub tags: Vec<String>,
    pub rare: Vec<String>,
    pub words: Zipf,
    pub tag_dist: Zipf,
    pub author_dist: Zipf,
    pub users: usize,
}

impl Pools {
    /// The pools for `users` accounts; the rare words come from `seed`.
    pub fn new(users: usize, seed: u64) -> Self {
        use rand::SeedableRng;
        let mut rng = StdRng::seed_from_u64(seed ^ 0x005e_ed0f_4a2e);
        let mut tags: Vec<String> = Vec::with_capacity(TAG_POOL);
        for word in VOCABULARY {
            if tags.len() + COMPOUND_TAGS.len() >= TAG_POOL {
                break;
            }
            if !tags.iter().any(|t| t == word) {
                tags.push((*word).to_owned());
            }
        }
        tags.extend(COMPOUND_TAGS.iter().map(|t| (*t).to_owned()));
        let mut rare = std::collections::BTreeSet::new();
        while rare.len() < RARE_WORDS {
            let n = rng.random_range(2..=4);
            let word: String = (0..n)
                .map(|_| SYLLABLES[rng.random_range(0..SYLLABLES.len())])
                .collect();
            if !VOCABULARY.contains(&word.as_str()) {
                rare.insert(word);
            }
        }
        Self {
            tags,
            rare: rare.into_iter().collect(),
            words: Zipf::new(VOCABULARY.len(), 0.5),
            tag_dist: Zipf::new(TAG_POOL, 1.1),
            author_dist: Zipf::new(users, 0.7),
            users,
        }
    }

    /// Account number `i`'s username (as typed; the key is the same, all lower case).
    pub fn username(i: usize) -> String {
        format!("{}{}", NAMES[i % NAMES.len()], i)
    }

    pub fn word(&self, rng: &mut StdRng) -> &'static str {
        VOCABULARY[self.words.sample(rng)]
    }

    /// A word from the most frequent 20.
    pub fn common_word(rng: &mut StdRng) -> &'static str {
        VOCABULARY[rng.random_range(0..20)]
    }

    pub fn rare_word(&self, rng: &mut StdRng) -> &str {
        &self.rare[rng.random_range(0..self.rare.len())]
    }

    /// `words` words, half of them fillers.
    fn prose(&self, rng: &mut StdRng, words: usize) -> String {
        let mut out = String::new();
        for i in 0..words {
            if i > 0 {
                out.push(' ');
            }
            if rng.random_bool(0.5) {
                out.push_str(FILLERS[rng.random_range(0..FILLERS.len())]);
            } else {
                out.push_str(self.word(rng));
            }
        }
        out
    }

    /// One generated subject; `index` makes its slug unique, `now` ends the two-year window.
    pub fn subject(&self, rng: &mut StdRng, index: usize, now: i64) -> GenSubject {
        let title_words: Vec<&str> = (0..rng.random_range(2..=5))
            .map(|_| self.word(rng))
            .collect();
        let title = title_words
            .iter()
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" ");
        let slug = format!("{}-{index}", title_words.join("-"));
        let summary_len = rng.random_range(15..=30);
        let summary = self.prose(rng, summary_len);
        let mut tags: Vec<String> = Vec::new();
        let wanted = rng.random_range(0..=5);
        while tags.len() < wanted {
            let tag = &self.tags[self.tag_dist.sample(rng)];
            if !tags.contains(tag) {
                tags.push(tag.clone());
            }
        }
        let body_len = rng.random_range(10..=40);
        let mut body_text = self.prose(rng, body_len);
        for _ in 0..[0, 0, 0, 0, 0, 1, 1, 1, 1, 2][rng.random_range(0..10)] {
            body_text.push(' ');
            body_text.push_str(self.rare_word(rng));
        }
        let visibility = match rng.random_range(0..100) {
            0..90 => "public",
            90..95 => "unlisted",
            _ => "private",
        };
        let created_at = now - rng.random_range(0..TWO_YEARS_MS);
        // Most subjects are edited soon after creation, a few much later.
        let updated_at =
            created_at + ((now - created_at) as f64 * rng.random::<f64>().powi(3)) as i64;
        // Pareto-like counters: most subjects have a handful of likes, a few thousands.
        let pareto = |rng: &mut StdRng, scale: f64, cap: f64| -> i64 {
            let u: f64 = rng.random_range(0.0001..1.0);
            ((scale * (u.powf(-1.0 / 1.2) - 1.0)).min(cap)) as i64
        };
        let like_count = pareto(rng, 3.0, 50_000.0);
        let save_count = (like_count as f64 * rng.random_range(0.05..0.5)) as i64;
        let view_count = like_count * rng.random_range(5..50) + rng.random_range(0..200);
        let author = self.author_dist.sample(rng);
        let body = format!("{body_text}\n");
        let search_text = format!("{title} {summary} {} {title} {body_text}", tags.join(" "));
        GenSubject {
            slug,
            author,
            title,
            summary,
            tags,
            visibility,
            like_count,
            save_count,
            view_count,
            created_at,
            updated_at,
            body,
            body_text,
            search_text,
        }
    }
}

/// A generated subject with its root topic's text.
#[derive(Debug, Clone)]
pub struct GenSubject {
    pub slug: String,
    /// Index of the owning account in generation order.
    pub author: usize,
    pub title: String,
    pub summary: String,
    pub tags: Vec<String>,
    pub visibility: &'static str,
    pub like_count: i64,
    pub save_count: i64,
    pub view_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// The root topic's markdown and its plain text.
    pub body: String,
    pub body_text: String,
    /// What `reindex_subject` would compute: title, summary, tags, then the root topic's
    /// title and plain text.
    pub search_text: String,
}
