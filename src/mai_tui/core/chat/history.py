"""Finding and organising conversations: the list sorted by last activity, search over titles
and message text as you type, filters (`tag:` `folder:` `pinned:` `archived:`), rename,
pin, archive, tags, folders, and deletion that can be undone until it is purged.

Search runs on each database's own full-text engine through one function (migration 0007):
FTS5 with BM25 on SQLite, a stored `tsvector` column on PostgreSQL, FULLTEXT in boolean mode
on MySQL/MariaDB. Every word must occur; the last word may be the start of a word, so results
follow the typing. SQLite indexes each conversation as one document (title and messages), so
the words may be spread over its messages; PostgreSQL and MariaDB index each message, so the
words must meet in one message or in the title, and a conversation scores by a title match
and how many of its messages match. PostgreSQL indexes the first 100,000 characters of a
message (a tsvector holds at most 1 MB of words): words after them are not found there.
MariaDB does not index words under 3 letters or stop words (`to`, `the`); they are left out
of a search there (`version 1.5` looks for `version`; `192.168.1.10` for `192` and `168`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Float, Integer, and_, delete, func, text, update
from sqlalchemy.sql.elements import TextClause
from sqlmodel import Session, col, select

from mai_tui.core.errors import InvalidInput, NotFound, PermissionDenied
from mai_tui.core.store.models import ChatMessage, Conversation, ConversationTag, LedgerEntry, Role, User
from mai_tui.core.store.types import utcnow
from mai_tui.i18n import _

PAGE = 100  # conversations per page of the list
PURGE_AFTER = timedelta(hours=1)  # the app purges deletions older than this when it starts
TITLE_WEIGHT = 3.0  # a word in the title counts this much more than one in a message
MAX_TAG = 100
MAX_FOLDER = 200
MAX_TITLE = 200

_FILTER = re.compile(r'(?<!\S)(tag|folder|pinned|archived):("[^"]*"|\S*)', re.IGNORECASE)
_WORD = re.compile(r"\w+", re.UNICODE)
_YES = {"true", "yes", "1", "on"}
_NO = {"false", "no", "0", "off"}
# InnoDB's default stop words: a required stop word (or a word under 3 letters) matches nothing there.
_INNODB_STOPWORDS = frozenset(
    "a about an are as at be by com de en for from how i in is it la of on or that the this to was what when "  # noqa: SIM905
    "where who will with und www".split()
)
_INNODB_MIN_TOKEN = 3
_TSQUERY_QUOTED = re.compile(r"['\\\x00]")  # syntax inside a quoted tsquery word (NUL: not text to PostgreSQL)
_TSQUERY_MAX = 1_000  # characters of words a tsquery holds at most


@dataclass(frozen=True)
class Query:
    """What the user typed in the search box, taken apart."""

    words: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    folder: str | None = None
    pinned: bool | None = None
    archived: bool | None = None  # None: not archived (as the list shows by default)
    prefix: bool = True  # the last word may be unfinished (typing)
    # the words as typed, split at spaces only (lower case): PostgreSQL's parser takes them apart
    # itself, keeping `1.5`, `user@example.com` and `192.168.1.10` whole as it does in the text
    terms: tuple[str, ...] = ()


@dataclass
class Listed:
    """A conversation as the list and `mai chats` show it."""

    id: int
    title: str
    updated_at: datetime
    model: str | None
    pinned: bool
    archived: bool
    folder: str | None
    tags: list[str] = field(default_factory=list)
    messages: int = 0
    cost_usd: Decimal = Decimal(0)
    score: float | None = None  # higher is better; None when listing without words

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "updated_at": self.updated_at,
            "model": self.model,
            "messages": self.messages,
            "cost_usd": self.cost_usd,
            "pinned": self.pinned,
            "archived": self.archived,
            "folder": self.folder,
            "tags": self.tags,
        }


def _flag(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    raise InvalidInput(_("{name}: expects true or false, not '{value}'").format(name=name, value=value))


def parse_query(raw: str, *, prefix: bool = True) -> Query:
    """`deploy error tag:work folder:"client a" pinned:true` → words and filters."""
    tags: list[str] = []
    folder: str | None = None
    pinned: bool | None = None
    archived: bool | None = None
    for match in _FILTER.finditer(raw):
        name, value = match.group(1).lower(), match.group(2).strip('"')
        try:
            if name == "tag" and value.strip(" #"):
                tags.append(normal_tag(value))
            elif name == "folder" and value:
                folder = value
            elif name == "pinned" and value:
                pinned = _flag("pinned", value)
            elif name == "archived" and value:
                archived = _flag("archived", value)
        except InvalidInput:
            if not prefix or match.end() < len(raw):
                raise
            # still being typed (`pinned:tr`): left out until it is a whole value
    rest = _FILTER.sub(" ", raw)
    words = tuple(word.lower() for word in _WORD.findall(rest))
    typing = prefix and not rest.endswith(" ")
    return Query(words, tuple(dict.fromkeys(tags)), folder, pinned, archived, typing, tuple(rest.lower().split()))


def normal_tag(tag: str) -> str:
    """Tags are compared in lower case, without surrounding spaces or a leading `#`."""
    cleaned = tag.strip().lstrip("#").strip().lower()
    if not cleaned:
        raise InvalidInput(_("a tag cannot be empty"))
    if len(cleaned) > MAX_TAG:
        raise InvalidInput(_("a tag has at most {n} characters").format(n=MAX_TAG))
    return cleaned


# --- full-text matching, one per database --------------------------------------------------
def _fts5(query: Query) -> str:
    """`"deploy" "err"*`: every word, each quoted (no FTS5 syntax from the user), last as a prefix."""
    terms = [f'"{word}"' for word in query.words]
    if query.prefix:
        terms[-1] += "*"
    return " ".join(terms)


def _tsquery(query: Query) -> str | None:
    """`'deploy' & '1.5':*`: every word as typed (split at spaces only), quoted whole, so that
    the server's parser takes it apart the way it took the text apart (`'user@example.com'`
    stays one word, `'foo-bar'` becomes the phrase of its parts); the last as a prefix. Quotes
    and backslashes, the only syntax inside a quoted word, become spaces; words past the first
    1,000 characters are left out (a longer tsquery can pass the server's limits). None when
    no word is left."""
    words = query.terms or query.words
    terms: list[str] = []
    length = 0
    for index, word in enumerate(words):
        cleaned = " ".join(_TSQUERY_QUOTED.sub(" ", word).split())
        length += len(cleaned) + 1
        if length > _TSQUERY_MAX:
            break
        if cleaned:
            terms.append(f"'{cleaned}':*" if query.prefix and index == len(words) - 1 else f"'{cleaned}'")
    return " & ".join(terms) or None


def _boolean(query: Query) -> str | None:
    """InnoDB boolean mode: `+deploy +err*`. Words it never indexes (under 3 letters, stop
    words) are left out, but the word being typed stays as an optional prefix (`deploy to` →
    `+deploy to*`, `don't` → `+don t*`): required, it would match nothing. None: none left."""
    last = len(query.words) - 1
    terms = []
    for index, word in enumerate(query.words):
        indexed = len(word) >= _INNODB_MIN_TOKEN and word not in _INNODB_STOPWORDS
        if index == last and query.prefix:
            terms.append(f"+{word}*" if indexed else f"{word}*")
        elif indexed:
            terms.append(f"+{word}")
    return " ".join(terms) or None


# PostgreSQL and MariaDB: a conversation scores TITLE_WEIGHT when its title matches, plus one
# per matching message up to _MESSAGES_COUNTED (so a title match ranks above any number of
# messages); ties go to the most recent. Read from the index alone: ranking every message
# that holds a common word (ts_rank) took seconds over 100,000 messages.
_MESSAGES_COUNTED = 2
_COUNTED = (
    "SELECT cid, MAX(in_title) * :w + LEAST(SUM(1 - in_title), :n) AS score FROM ("
    " SELECT conversation_id AS cid, 0 AS in_title FROM messages WHERE {messages}"
    " UNION ALL"
    " SELECT id AS cid, 1 AS in_title FROM conversations WHERE {titles}"
    ") hits GROUP BY cid"
)


def _hits(session: Session, query: Query) -> TextClause | None:
    """(conversation id, score) of every conversation with a matching message or title."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        statement = text(
            "SELECT rowid AS cid, -bm25(chats_fts, :w, 1.0) AS score FROM chats_fts WHERE chats_fts MATCH :q"
        ).bindparams(q=_fts5(query), w=TITLE_WEIGHT)
    elif dialect == "postgresql":
        tsquery = _tsquery(query)
        if tsquery is None:
            return None
        matches = "search @@ to_tsquery('simple', :q)"  # the stored tsvector columns of migration 0007
        statement = text(_COUNTED.format(messages=matches, titles=matches)).bindparams(
            q=tsquery, w=TITLE_WEIGHT, n=_MESSAGES_COUNTED
        )
    else:
        boolean = _boolean(query)
        if boolean is None:
            return None
        statement = text(
            _COUNTED.format(
                messages="MATCH(content) AGAINST (:q IN BOOLEAN MODE)",
                titles="MATCH(title) AGAINST (:q IN BOOLEAN MODE)",
            )
        ).bindparams(q=boolean, w=TITLE_WEIGHT, n=_MESSAGES_COUNTED)
    return statement


def find(session: Session, user: User, raw: str | Query = "", *, limit: int = PAGE, offset: int = 0) -> list[Listed]:
    """The user's conversations that match, best first (by last activity when there are no
    words); pinned ones first when listing. Deleted conversations are never found."""
    query = parse_query(raw) if isinstance(raw, str) else raw
    statement = select(Conversation).where(Conversation.user_id == user.id, col(Conversation.deleted_at).is_(None))
    statement = statement.where(col(Conversation.archived).is_(query.archived if query.archived is not None else False))
    if query.pinned is not None:
        statement = statement.where(col(Conversation.pinned).is_(query.pinned))
    if query.folder is not None:
        statement = statement.where(Conversation.folder == query.folder)
    for tag in query.tags:
        tagged = select(ConversationTag.conversation_id).where(ConversationTag.tag == tag)
        statement = statement.where(col(Conversation.id).in_(tagged))
    scores: dict[int, float] = {}
    if query.words:
        hits = _hits(session, query)
        if hits is None:
            return []
        matched = hits.columns(cid=Integer, score=Float).subquery("hits")
        rows = session.execute(
            statement.add_columns(matched.c.score)
            .join(matched, matched.c.cid == Conversation.id)
            .order_by(matched.c.score.desc(), col(Conversation.updated_at).desc(), col(Conversation.id).desc())
            .offset(offset)
            .limit(limit)
        ).all()
        conversations = [row[0] for row in rows]
        scores = {row[0].id: float(row[1]) for row in rows if row[0].id is not None}
    else:
        conversations = list(
            session.exec(
                statement.order_by(
                    col(Conversation.pinned).desc(), col(Conversation.updated_at).desc(), col(Conversation.id).desc()
                )
                .offset(offset)
                .limit(limit)
            ).all()
        )
    return _described(session, conversations, scores)


def _described(session: Session, conversations: list[Conversation], scores: dict[int, float]) -> list[Listed]:
    """Tags, message counts and billed cost of a page of conversations, in three reads."""
    ids = [c.id for c in conversations if c.id is not None]
    if not ids:
        return []
    tags: dict[int, list[str]] = {}
    for conversation_id, tag in session.exec(
        select(ConversationTag.conversation_id, ConversationTag.tag)
        .where(col(ConversationTag.conversation_id).in_(ids))
        .order_by(col(ConversationTag.tag))
    ).all():
        tags.setdefault(conversation_id, []).append(tag)
    counts = dict(
        session.exec(
            select(ChatMessage.conversation_id, func.count())
            .where(col(ChatMessage.conversation_id).in_(ids))
            .group_by(col(ChatMessage.conversation_id))
        ).all()
    )
    costs = dict(
        session.exec(
            select(LedgerEntry.conversation_id, func.sum(LedgerEntry.billed_cost_usd))
            .where(col(LedgerEntry.conversation_id).in_(ids))
            .group_by(col(LedgerEntry.conversation_id))
        ).all()
    )
    return [
        Listed(
            id=c.id,
            title=c.title,
            updated_at=c.updated_at,
            model=c.model,
            pinned=c.pinned,
            archived=c.archived,
            folder=c.folder,
            tags=tags.get(c.id, []),
            messages=counts.get(c.id, 0),
            cost_usd=Decimal(costs.get(c.id) or 0),
            score=scores.get(c.id),
        )
        for c in conversations
        if c.id is not None
    ]


# --- organising ---------------------------------------------------------------------------
def owned(session: Session, user: User, conversation_id: int, *, deleted: bool = False) -> Conversation:
    """The user's conversation (an admin may reach anyone's); a deleted one only when asked for."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or (conversation.deleted_at is not None) != deleted:
        raise NotFound(_("no conversation {id}").format(id=conversation_id))
    if conversation.user_id != user.id and user.role != Role.ADMIN:
        raise PermissionDenied(_("conversation {id} belongs to another user").format(id=conversation_id))
    return conversation


def rename(session: Session, user: User, conversation_id: int, title: str) -> Conversation:
    cleaned = " ".join(title.split())
    if not cleaned:
        raise InvalidInput(_("a title cannot be empty"))
    if len(cleaned) > MAX_TITLE:
        raise InvalidInput(_("a title has at most {n} characters").format(n=MAX_TITLE))
    conversation = owned(session, user, conversation_id)
    conversation.title = cleaned
    session.add(conversation)
    return conversation


def set_pinned(session: Session, user: User, conversation_id: int, pinned: bool) -> Conversation:
    conversation = owned(session, user, conversation_id)
    conversation.pinned = pinned
    session.add(conversation)
    return conversation


def set_archived(session: Session, user: User, conversation_id: int, archived: bool) -> Conversation:
    conversation = owned(session, user, conversation_id)
    conversation.archived = archived
    session.add(conversation)
    return conversation


def set_folder(session: Session, user: User, conversation_id: int, folder: str | None) -> Conversation:
    cleaned = " ".join((folder or "").split()) or None
    if cleaned is not None and len(cleaned) > MAX_FOLDER:
        raise InvalidInput(_("a folder name has at most {n} characters").format(n=MAX_FOLDER))
    conversation = owned(session, user, conversation_id)
    conversation.folder = cleaned
    session.add(conversation)
    return conversation


def tags_of(session: Session, conversation_id: int) -> list[str]:
    return list(
        session.exec(
            select(ConversationTag.tag)
            .where(ConversationTag.conversation_id == conversation_id)
            .order_by(col(ConversationTag.tag))
        ).all()
    )


_PLAIN_LETTERS = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ð": "d", "ħ": "h", "ŧ": "t", "ı": "i", "æ": "ae", "œ": "oe"}
)


def tag_key(tag: str) -> str:
    """What a tag is compared by for being a duplicate: without case, accents (NFKD without its
    combining marks), invisible format characters or trailing spaces, as MariaDB's accent- and
    case-insensitive collations compare them (`café` and `Cafe` are the same key there)."""
    folded = unicodedata.normalize("NFKD", tag.casefold())
    kept = "".join(c for c in folded if not unicodedata.combining(c) and unicodedata.category(c) != "Cf")
    return kept.casefold().translate(_PLAIN_LETTERS).rstrip()


def parse_tags(raw: str) -> list[str]:
    """`work, client-a #urgent` → ["work", "client-a", "urgent"] (commas or spaces separate)."""
    return list(dict.fromkeys(normal_tag(part) for part in re.split(r"[,\s]+", raw) if part.strip(" #")))


def set_tags(session: Session, user: User, conversation_id: int, tags: list[str]) -> list[str]:
    owned(session, user, conversation_id)
    # One spelling per tag as the databases compare them (MariaDB: "café" = "cafe").
    folded: dict[str, str] = {}
    for tag in tags:
        cleaned = normal_tag(tag)
        folded.setdefault(tag_key(cleaned), cleaned)
    wanted = list(folded.values())
    session.execute(delete(ConversationTag).where(col(ConversationTag.conversation_id) == conversation_id))
    for tag in wanted:
        session.add(ConversationTag(conversation_id=conversation_id, tag=tag))
    return sorted(wanted)


def folders(session: Session, user: User) -> list[str]:
    return [
        folder
        for folder in session.exec(
            select(Conversation.folder)
            .where(Conversation.user_id == user.id, col(Conversation.folder).is_not(None))
            .where(col(Conversation.deleted_at).is_(None))
            .distinct()
            .order_by(col(Conversation.folder))
        ).all()
        if folder is not None
    ]


def all_tags(session: Session, user: User) -> list[str]:
    return list(
        session.exec(
            select(ConversationTag.tag)
            .join(Conversation, and_(col(Conversation.id) == ConversationTag.conversation_id))
            .where(Conversation.user_id == user.id, col(Conversation.deleted_at).is_(None))
            .distinct()
            .order_by(col(ConversationTag.tag))
        ).all()
    )


def delete_conversation(session: Session, user: User, conversation_id: int) -> Conversation:
    """Gone from the list and from search at once; `restore` brings it back until `purge`."""
    conversation = owned(session, user, conversation_id)
    conversation.deleted_at = utcnow()
    session.add(conversation)
    return conversation


def restore(session: Session, user: User, conversation_id: int) -> Conversation:
    conversation = owned(session, user, conversation_id, deleted=True)
    conversation.deleted_at = None
    session.add(conversation)
    return conversation


def purge(session: Session, user: User | None = None, *, before: datetime | None = None) -> int:
    """Delete for good the conversations deleted so far (the user's, or everyone's; only those
    deleted `before`, so another instance's undo still works); their messages go with them,
    their ledger rows stay (the bill does not change)."""
    statement = select(Conversation.id).where(col(Conversation.deleted_at).is_not(None))
    if before is not None:
        statement = statement.where(col(Conversation.deleted_at) < before)
    if user is not None:
        statement = statement.where(col(Conversation.user_id) == user.id)
    ids = list(session.exec(statement).all())
    if not ids:
        return 0
    with bulk_index(session) as touched:
        touched.update(i for i in ids if i is not None)
        # Unlink the tree first: MySQL cascades a self-reference at most 15 levels deep.
        session.execute(update(ChatMessage).where(col(ChatMessage.conversation_id).in_(ids)).values(parent_id=None))
        session.execute(delete(ChatMessage).where(col(ChatMessage.conversation_id).in_(ids)))
        session.execute(delete(Conversation).where(col(Conversation.id).in_(ids)))
    return len(ids)


@contextmanager
def bulk_index(session: Session) -> Iterator[set[int]]:
    """Write many messages at once (an import, a purge) and index each conversation once.

    On SQLite the search triggers stand aside inside this block (a row in `chats_fts_pause`,
    seen only by this transaction) and the conversations whose ids the caller adds to the
    yielded set are indexed again at the end: one rewrite each instead of one per message.
    PostgreSQL and MariaDB index each message as it is written: nothing to do there.
    """
    touched: set[int] = set()
    if session.get_bind().dialect.name != "sqlite":
        yield touched
        return
    session.execute(text("INSERT INTO chats_fts_pause (id) VALUES (1)"))
    yield touched
    if touched:
        marks = {f"c{n}": conversation for n, conversation in enumerate(sorted(touched))}
        listed = ", ".join(f":{name}" for name in marks)
        session.execute(text(f"DELETE FROM chats_fts WHERE rowid IN ({listed})"), marks)
        session.execute(
            text(
                "INSERT INTO chats_fts(rowid, title, body) SELECT c.id, c.title, (SELECT group_concat(content, "
                f"char(10)) FROM messages WHERE conversation_id = c.id) FROM conversations c WHERE c.id IN ({listed})"
            ),
            marks,
        )
    session.execute(text("DELETE FROM chats_fts_pause"))
