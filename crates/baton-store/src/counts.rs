//! The inbox views' counts (issue 9: "live counts", never a counting scan per request).
//!
//! `inbox_counts` holds, per view (and per user for Mine), [`STRIPES`] partial counts;
//! triggers on `conversations` move them in the transaction that changes a conversation,
//! whichever code path does it, so no Rust path can forget them. A count is the sum of
//! at most [`STRIPES`] rows read by primary key. Each conversation always lands in the
//! stripe `id % STRIPES`, so concurrent changes to different conversations on
//! PostgreSQL mostly update different rows instead of queueing on one.
//!
//! [`VIEWS`] is the one statement of which conversation counts where; the triggers and
//! the backfill are generated from it, and it matches `turns::list`'s filters.

use baton_core::ids::UserId;
use baton_engine::StoreError;
use baton_engine::model::ViewCounts;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::{Result, backend};

/// Rows per count.
pub(crate) const STRIPES: i64 = 16;

/// Per view: its name in `inbox_counts`, the user it counts for (0: everyone's view),
/// and when the conversation `{r}` counts in it.
const VIEWS: [(&str, &str, &str); 3] = [
    ("open", "0", "{r}.status = 'open'"),
    (
        "unassigned",
        "0",
        "{r}.status = 'open' AND {r}.assignee_kind = 'none'",
    ),
    (
        "mine",
        "{r}.assignee_user_id",
        "{r}.status = 'open' AND {r}.assignee_user_id IS NOT NULL",
    ),
];

/// The rows `row` (`NEW` or `OLD` in a trigger, an alias in a query) adds to the counts,
/// each weighing `weight`: `view_name, user_id, stripe, n`.
fn contributions(row: &str, weight: &str, from: &str) -> String {
    VIEWS
        .iter()
        .map(|(view, user, when)| {
            format!(
                "SELECT '{view}' AS view_name, {user} AS user_id, {row}.id % {STRIPES} AS stripe, \
                 {weight} AS n{from} WHERE {when}",
                user = user.replace("{r}", row),
                when = when.replace("{r}", row),
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// One statement applying the net change of `rows` (each `(row, +1 or -1)`), keys in one
/// order (view, then user) so two transactions never take the same rows in opposite
/// orders.
fn apply(rows: &[(&str, i32)]) -> String {
    let parts: Vec<String> = rows
        .iter()
        .map(|(row, sign)| contributions(row, &sign.to_string(), ""))
        .collect();
    format!(
        "INSERT INTO inbox_counts (view_name, user_id, stripe, n) \
         SELECT view_name, user_id, stripe, SUM(n) FROM ({}) AS d \
         GROUP BY view_name, user_id, stripe HAVING SUM(n) <> 0 \
         ORDER BY view_name, user_id \
         ON CONFLICT (view_name, user_id, stripe) DO UPDATE SET n = inbox_counts.n + excluded.n",
        parts.join(" UNION ALL ")
    )
}

/// The columns whose change can move a conversation between views.
const WATCHED: [&str; 3] = ["status", "assignee_kind", "assignee_user_id"];

fn changed(distinct: &str) -> String {
    WATCHED
        .iter()
        .map(|c| format!("OLD.{c} {distinct} NEW.{c}"))
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// The statements of the migration that creates the counts: the table, the triggers,
/// and the counts of the conversations already stored.
pub(crate) fn migration(db: DbBackend) -> Vec<String> {
    let columns = WATCHED.join(", ");
    let mut statements = vec![
        "CREATE TABLE inbox_counts (view_name VARCHAR(16) NOT NULL, \
         user_id BIGINT NOT NULL DEFAULT 0, stripe INTEGER NOT NULL, n BIGINT NOT NULL, \
         PRIMARY KEY (view_name, user_id, stripe))"
            .to_owned(),
    ];
    match db {
        DbBackend::Postgres => {
            statements.push(format!(
                "CREATE FUNCTION inbox_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN \
                 IF TG_OP = 'INSERT' THEN {}; \
                 ELSIF TG_OP = 'UPDATE' THEN {}; \
                 ELSE {}; \
                 END IF; \
                 RETURN NULL; \
                 END $$",
                apply(&[("NEW", 1)]),
                apply(&[("OLD", -1), ("NEW", 1)]),
                apply(&[("OLD", -1)]),
            ));
            statements.push(
                "CREATE TRIGGER inbox_counts_insert_delete AFTER INSERT OR DELETE ON conversations \
                 FOR EACH ROW EXECUTE FUNCTION inbox_counts_apply()"
                    .to_owned(),
            );
            statements.push(format!(
                "CREATE TRIGGER inbox_counts_update AFTER UPDATE OF {columns} ON conversations \
                 FOR EACH ROW WHEN ({}) EXECUTE FUNCTION inbox_counts_apply()",
                changed("IS DISTINCT FROM")
            ));
        }
        _ => {
            statements.push(format!(
                "CREATE TRIGGER inbox_counts_insert AFTER INSERT ON conversations \
                 BEGIN {}; END",
                apply(&[("NEW", 1)])
            ));
            statements.push(format!(
                "CREATE TRIGGER inbox_counts_update AFTER UPDATE OF {columns} ON conversations \
                 WHEN {} BEGIN {}; END",
                changed("IS NOT"),
                apply(&[("OLD", -1), ("NEW", 1)])
            ));
            statements.push(format!(
                "CREATE TRIGGER inbox_counts_delete AFTER DELETE ON conversations \
                 BEGIN {}; END",
                apply(&[("OLD", -1)])
            ));
        }
    }
    statements.push(format!(
        "INSERT INTO inbox_counts (view_name, user_id, stripe, n) \
         SELECT view_name, user_id, stripe, SUM(n) FROM ({}) AS d \
         GROUP BY view_name, user_id, stripe",
        contributions("c", "1", " FROM conversations AS c")
    ));
    statements
}

/// The three counts for `user`: at most `3 * STRIPES` rows, by primary key.
pub(crate) async fn read(db: &impl ConnectionTrait, user: UserId) -> Result<ViewCounts> {
    let backend_kind = db.get_database_backend();
    let placeholder = match backend_kind {
        DbBackend::Postgres => "$1",
        _ => "?",
    };
    let sql = format!(
        "SELECT view_name, CAST(SUM(n) AS BIGINT) AS n FROM inbox_counts \
         WHERE (view_name IN ('open', 'unassigned') AND user_id = 0) \
         OR (view_name = 'mine' AND user_id = {placeholder}) \
         GROUP BY view_name"
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend_kind,
            sql,
            [user.0.into()],
        ))
        .await
        .map_err(backend)?;
    let mut counts = ViewCounts::default();
    for row in rows {
        let view: String = row.try_get("", "view_name").map_err(backend)?;
        let n: i64 = row.try_get("", "n").map_err(backend)?;
        let n = u64::try_from(n)
            .map_err(|_| StoreError::Backend(format!("the {view} count is negative: {n}")))?;
        match view.as_str() {
            "open" => counts.open = n,
            "unassigned" => counts.unassigned = n,
            "mine" => counts.mine = n,
            _ => {}
        }
    }
    Ok(counts)
}
