//! Routes as indexed rows, and the page reads a routing walk makes (issue 3: choosing an
//! assignee reads a page of the route, never the whole route).
//!
//! A route is interned once per destination spec — the sorted user ids and team ids a
//! destination names. Teams never change members once created, so a spec always means
//! the same members; if teams ever become editable, editing one must intern new routes.

use baton_core::ids::{TeamId, UserId};
use baton_core::people::Seat;
use baton_routing::{Candidate, Key, Mode, PageRequest, Strategy};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, Iterable, Order, QueryFilter, Set,
};

use crate::convert::micros;
use crate::entity::{route, route_member, user};
use crate::people::team_members;
use crate::routing::available_at;
use crate::{Result, backend};

/// An interned route: its id and how many users it holds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Route {
    pub(crate) id: i64,
    pub(crate) members: i64,
}

/// The route for a destination naming `user_ids` and `team_ids`: found by its spec, or
/// created with its members expanded (named users plus team members, each once).
pub(crate) async fn intern(
    db: &impl ConnectionTrait,
    user_ids: &[UserId],
    team_ids: &[TeamId],
    now: DateTime<Utc>,
) -> Result<Route> {
    let spec = spec(user_ids, team_ids);
    if let Some(found) = by_spec(db, &spec).await? {
        return Ok(found);
    }
    let teams: Vec<i64> = team_ids.iter().map(|t| t.0).collect();
    let members = team_members(db, &teams).await?;
    let members = baton_routing::expand_destination(
        user_ids,
        members.into_iter().map(|(_, user)| UserId(user)),
    );
    // Another host may intern the same spec at once: the unique spec decides, and the
    // loser reads the winner's row (its members commit with it).
    let count = i64::try_from(members.len()).unwrap_or(i64::MAX);
    let inserted = route::Entity::insert(route::ActiveModel {
        spec: Set(spec.clone()),
        members: Set(count),
        created_at: Set(micros(now)),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([route::Column::Spec])
    .exec(db)
    .await
    .map_err(backend)?;
    let id = match inserted {
        sea_orm::TryInsertResult::Inserted(result) => result.last_insert_id,
        _ => {
            return by_spec(db, &spec)
                .await?
                .ok_or_else(|| backend(sea_orm::DbErr::RecordNotFound(spec)));
        }
    };
    for chunk in members.chunks(500) {
        route_member::Entity::insert_many(chunk.iter().map(|user| route_member::ActiveModel {
            route_id: Set(id),
            user_id: Set(user.0),
        }))
        .exec(db)
        .await
        .map_err(backend)?;
    }
    Ok(Route { id, members: count })
}

/// `u:1,2;t:3` — ids sorted and deduplicated, so equal destinations share a route.
fn spec(user_ids: &[UserId], team_ids: &[TeamId]) -> String {
    let mut users: Vec<i64> = user_ids.iter().map(|u| u.0).collect();
    users.sort_unstable();
    users.dedup();
    let mut teams: Vec<i64> = team_ids.iter().map(|t| t.0).collect();
    teams.sort_unstable();
    teams.dedup();
    let join = |ids: Vec<i64>| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    format!("u:{};t:{}", join(users), join(teams))
}

async fn by_spec(db: &impl ConnectionTrait, spec: &str) -> Result<Option<Route>> {
    Ok(route::Entity::find()
        .filter(route::Column::Spec.eq(spec))
        .one(db)
        .await
        .map_err(backend)?
        .map(|r| Route {
            id: r.id,
            members: r.members,
        }))
}

/// Routing's view of a user row at `now`.
pub(crate) fn candidate(row: &user::Model, now: DateTime<Utc>) -> Candidate {
    Candidate {
        user_id: UserId(row.id),
        paid_seat: row.seat.parse::<Seat>().is_ok_and(Seat::is_paid),
        available: available_at(row, now),
        open_conversations: u32::try_from(row.open_count).unwrap_or(u32::MAX),
        capacity: u32::try_from(row.capacity).unwrap_or(0),
        last_assigned_at: row.last_assigned_at,
    }
}

const SEATED: &str = "users.seat <> 'none'";
const UNDER_CAPACITY: &str = "users.open_count < users.capacity";
const AVAILABLE: &str = "users.availability = 'available'";

/// Which cheap filters a page read applies in the query.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Filter {
    /// Paid seat and under capacity.
    pub(crate) capacity: bool,
    /// The available switch (working hours are checked on the rows read).
    pub(crate) available: bool,
}

impl Filter {
    /// What a walk for `mode` expects: `baton_routing::walk::prefilter`.
    pub(crate) fn walk(mode: Mode) -> Filter {
        Filter {
            capacity: true,
            available: mode == Mode::Live,
        }
    }

    /// Nothing filtered: to explain who was passed over.
    pub(crate) const NONE: Filter = Filter {
        capacity: false,
        available: false,
    };

    /// Literal SQL, written exactly as the partial indexes of migration 9 state their
    /// conditions: a planner only uses a partial index for a query whose terms imply the
    /// index's, and a bound parameter implies nothing.
    fn apply(self, query: &mut SelectStatement) {
        if self.capacity {
            query
                .and_where(Expr::cust(SEATED))
                .and_where(Expr::cust(UNDER_CAPACITY));
        }
        if self.available {
            query.and_where(Expr::cust(AVAILABLE));
        }
    }
}

fn load(key: Key) -> Option<SimpleExpr> {
    match key {
        Key::Load {
            open,
            idle_since,
            user_id,
        } => Some(Expr::tuple([
            Expr::val(i64::from(open)),
            Expr::val(idle_since),
            Expr::val(user_id.0),
        ])),
        Key::Id(_) => None,
    }
}

fn load_columns() -> SimpleExpr {
    Expr::tuple([
        Expr::col((user::Entity, user::Column::OpenCount)),
        Expr::col((user::Entity, user::Column::IdleSince)),
        Expr::col((user::Entity, user::Column::Id)),
    ])
}

/// One page of `route` in `strategy` order, as `request` bounds it.
pub(crate) async fn page(
    db: &impl ConnectionTrait,
    route_id: i64,
    strategy: Strategy,
    filter: Filter,
    request: PageRequest,
) -> Result<Vec<user::Model>> {
    let mut query = Query::select();
    query.columns(user::Column::iter().map(|c| (user::Entity, c)));
    match strategy {
        // Walks the route's primary key (route_id, user_id) from the cursor.
        Strategy::RoundRobin => {
            let member = (route_member::Entity, route_member::Column::UserId);
            query
                .from(route_member::Entity)
                .inner_join(
                    user::Entity,
                    Expr::col((user::Entity, user::Column::Id)).equals(member),
                )
                .and_where(
                    Expr::col((route_member::Entity, route_member::Column::RouteId)).eq(route_id),
                )
                .order_by(member, Order::Asc);
            if let Some(Key::Id(after)) = request.after {
                query.and_where(Expr::col(member).gt(after.0));
            }
            if let Some(Key::Id(until)) = request.until {
                query.and_where(Expr::col(member).lte(until.0));
            }
        }
        // Walks the users_balanced index (open_count, idle_since, id), probing membership
        // by the route's primary key.
        Strategy::Balanced => {
            query
                .from(user::Entity)
                .and_where(Expr::exists(
                    Query::select()
                        .expr(Expr::val(1))
                        .from(route_member::Entity)
                        .and_where(
                            Expr::col((route_member::Entity, route_member::Column::RouteId))
                                .eq(route_id),
                        )
                        .and_where(
                            Expr::col((route_member::Entity, route_member::Column::UserId))
                                .equals((user::Entity, user::Column::Id)),
                        )
                        .to_owned(),
                ))
                .order_by((user::Entity, user::Column::OpenCount), Order::Asc)
                .order_by((user::Entity, user::Column::IdleSince), Order::Asc)
                .order_by((user::Entity, user::Column::Id), Order::Asc);
            if let Some(after) = request.after.and_then(load) {
                query.and_where(load_columns().gt(after));
            }
            if let Some(until) = request.until.and_then(load) {
                query.and_where(load_columns().lte(until));
            }
        }
    }
    filter.apply(&mut query);
    query.limit(u64::try_from(request.limit).unwrap_or(u64::MAX));
    let statement = db.get_database_backend().build(&query);
    user::Model::find_by_statement(statement)
        .all(db)
        .await
        .map_err(backend)
}

/// Whether anyone on the route could answer now (paid seat, available, within hours),
/// capacity aside: it chooses the visitor's message. Reads until the first such user.
pub(crate) async fn anyone_available(
    db: &impl ConnectionTrait,
    route_id: i64,
    now: DateTime<Utc>,
) -> Result<bool> {
    let filter = Filter {
        capacity: false,
        available: true,
    };
    any_on_route(db, route_id, filter, |row| {
        row.seat.parse::<Seat>().is_ok_and(Seat::is_paid) && available_at(row, now)
    })
    .await
}

/// Whether a routing walk in `mode` would find someone on the route now: a paid seat and
/// free capacity, and for `Mode::Live` available within working hours (the router's own
/// rule, `baton_routing::ineligibility`). Reads until the first such user.
pub(crate) async fn anyone_eligible(
    db: &impl ConnectionTrait,
    route_id: i64,
    mode: Mode,
    now: DateTime<Utc>,
) -> Result<bool> {
    any_on_route(db, route_id, Filter::walk(mode), |row| {
        baton_routing::ineligibility(&candidate(row, now), mode).is_none()
    })
    .await
}

/// Reads the route's members a page at a time (in user id order, `filter` applied in the
/// query) until one satisfies `test`.
async fn any_on_route(
    db: &impl ConnectionTrait,
    route_id: i64,
    filter: Filter,
    test: impl Fn(&user::Model) -> bool,
) -> Result<bool> {
    let mut after = None;
    loop {
        let rows = page(
            db,
            route_id,
            Strategy::RoundRobin,
            filter,
            PageRequest {
                after,
                until: None,
                limit: baton_routing::walk::PAGE,
            },
        )
        .await?;
        if rows.iter().any(&test) {
            return Ok(true);
        }
        match rows.last() {
            Some(last) if rows.len() == baton_routing::walk::PAGE => {
                after = Some(Key::Id(UserId(last.id)));
            }
            _ => return Ok(false),
        }
    }
}
