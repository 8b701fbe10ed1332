#include "PageDecoder.h"

#include "Codec.h"
#include "Json.h"

#include <QLatin1StringView>
#include <QVarLengthArray>

namespace schedy::detail {
namespace {

// Walks the text of a page; every method returns false when the text is not
// one the fast path takes (the general decoder then has the last word).
class Walker
{
public:
    explicit Walker(const QByteArray &text)
        : m_p(text.constData())
        , m_end(text.constData() + text.size())
    {}

    bool atEnd()
    {
        skipSpace();
        return m_p == m_end;
    }

    bool take(char c)
    {
        skipSpace();
        if (m_p < m_end && *m_p == c) {
            ++m_p;
            return true;
        }
        return false;
    }

    bool peek(char c)
    {
        skipSpace();
        return m_p < m_end && *m_p == c;
    }

    // A key without escapes or control characters (what json::parse reads the same way).
    bool key(QLatin1StringView *out)
    {
        QByteArrayView text;
        if (!plainString(&text))
            return false;
        *out = QLatin1StringView(text.data(), text.size());
        return take(':');
    }

    // Any JSON value, by the same parser json::parse uses.
    bool value(int depth, QCborValue *out)
    {
        const char *stop = m_p;
        json::ParseError error;
        *out = json::parseValueAt(m_p, m_end, &stop, depth, &error);
        if (error.isError())
            return false;
        m_p = stop;
        return true;
    }

    // A string value: text without escapes directly, anything else through value().
    bool string(int depth, QString *out, bool *isString)
    {
        QByteArrayView text;
        if (plainString(&text)) {
            *out = QString::fromUtf8(text);
            *isString = true;
            return true;
        }
        QCborValue v;
        if (!value(depth, &v))
            return false;
        *isString = v.isString();
        *out = v.toString();
        return true;
    }

    // A string value without escapes, as its bytes; false for anything else
    // (the caller then reads it with string()).
    bool plainString(QByteArrayView *out)
    {
        skipSpace();
        if (m_p >= m_end || *m_p != '"')
            return false;
        for (const char *q = m_p + 1; q < m_end; ++q) {
            const unsigned char c = static_cast<unsigned char>(*q);
            if (c == '"') {
                *out = QByteArrayView(m_p + 1, q - m_p - 1);
                m_p = q + 1;
                return true;
            }
            if (c == '\\' || c < 0x20)
                return false;
        }
        return false;
    }

    // The hyperparameters or results of a job. The jobs of a page mostly have
    // the same keys in the same order: the map of the last job with new keys is
    // kept as a template, and a job with the same keys gets a copy of it with
    // its values replaced. No key is searched for and no map grows key by key,
    // and the copies share the bytes of the keys. Anything unusual (an escaped
    // key, a repeated key) is read by value(), as before.
    struct Shape
    {
        QList<QByteArray> keys;
        QCborMap map;
    };
    bool shapedMap(int depth, Shape *shape, QCborMap *out)
    {
        skipSpace();
        const char *start = m_p;
        const auto general = [&] {
            m_p = start;
            QCborValue v;
            if (!value(depth, &v) || !v.isMap())
                return false;
            *out = v.toMap();
            return true;
        };
        if (!take('{'))
            return false;
        QVarLengthArray<QLatin1StringView, 32> keys;
        QVarLengthArray<QCborValue, 32> values;
        if (!take('}')) {
            do {
                QLatin1StringView k;
                QCborValue v;
                if (!key(&k) || !isAscii(k) || !value(depth + 1, &v))
                    return general();
                keys.append(k);
                values.append(std::move(v));
            } while (take(','));
            if (!take('}'))
                return false;
        }
        bool same = shape->keys.size() == keys.size();
        for (qsizetype i = 0; same && i < keys.size(); ++i)
            same = QByteArrayView(keys[i].data(), keys[i].size()) == shape->keys[i];
        if (same) {
            QCborMap map = shape->map;
            auto it = map.begin(); // detaches the values; the keys' bytes stay shared
            for (qsizetype i = 0; i < values.size(); ++i, ++it)
                it.value() = values[i]; // QCborValueRef has no move assignment
            *out = map;                 // QCborMap (Qt 6.4) has no move assignment; it is shared
            return true;
        }
        QCborMap map;
        for (qsizetype i = 0; i < keys.size(); ++i)
            map[keys[i]] = values[i];    // QCborValueRef has no move assignment
        if (map.size() == keys.size()) { // no repeated key: a template for the next jobs
            shape->keys.clear();
            for (const QLatin1StringView &k : keys)
                shape->keys.append(QByteArray(k.data(), k.size()));
            shape->map = map;
        }
        *out = map;
        return true;
    }

private:
    // What json::parse stores as a Latin-1 key; other keys are UTF-8 text.
    static bool isAscii(QLatin1StringView k)
    {
        for (const char c : k)
            if (static_cast<unsigned char>(c) >= 0x80)
                return false;
        return true;
    }

    void skipSpace()
    {
        while (m_p < m_end && (*m_p == ' ' || *m_p == '\t' || *m_p == '\n' || *m_p == '\r'))
            ++m_p;
    }

    const char *m_p;
    const char *m_end;
};

std::optional<JobStatus> statusOf(QByteArrayView text)
{
    static const auto names = [] {
        std::array<QByteArray, JobStatusCount> n;
        for (JobStatus s : AllJobStatuses)
            n[size_t(s)] = toString(s).toLatin1();
        return n;
    }();
    for (JobStatus s : AllJobStatuses)
        if (text == names[size_t(s)])
            return s;
    return std::nullopt;
}

// Nesting of the values inside a job of a page: page { items [ job { value.
constexpr int JobValueDepth = 3;

// What the jobs of a page mostly share.
struct PageContext
{
    Walker::Shape hyperparameters;
    Walker::Shape results;
    // The experiment's name, converted once and then shared by the jobs.
    QByteArray experimentText;
    QString experiment;
};

bool decodeJob(Walker &w, Job *job, PageContext *context)
{
    enum Seen : unsigned {
        Id = 1,
        Experiment = 2,
        Status = 4,
        Hp = 8,
        Results = 16,
        Created = 32,
        Modified = 64,
        Generation = 128,
        Parent = 256,
        Member = 512
    };
    unsigned seen = 0;
    const auto first = [&seen](unsigned bit) {
        // A repeated key: json::parse keeps the last value; leave that to it.
        const bool ok = !(seen & bit);
        seen |= bit;
        return ok;
    };
    if (!w.take('{'))
        return false;
    if (!w.take('}')) {
        do {
            QLatin1StringView k;
            if (!w.key(&k))
                return false;
            bool isString = false;
            QCborValue v;
            if (k == QLatin1StringView("id")) {
                if (!first(Id) || !w.string(JobValueDepth, &job->id, &isString) || !isString)
                    return false;
            } else if (k == QLatin1StringView("experiment")) {
                if (!first(Experiment))
                    return false;
                QByteArrayView text;
                if (w.plainString(&text) && text == context->experimentText) {
                    job->experiment = context->experiment;
                } else if (!text.isNull()) {
                    job->experiment = QString::fromUtf8(text);
                    context->experimentText = text.toByteArray();
                    context->experiment = job->experiment;
                } else if (!w.string(JobValueDepth, &job->experiment, &isString) || !isString) {
                    return false;
                }
            } else if (k == QLatin1StringView("status")) {
                QByteArrayView text;
                if (!first(Status) || !w.plainString(&text))
                    return false; // an escaped status is no status we know, or not a string
                const auto s = statusOf(text);
                if (!s)
                    return false;
                job->status = *s;
            } else if (k == QLatin1StringView("hyperparameters") || k == QLatin1StringView("results")) {
                const bool hp = k == QLatin1StringView("hyperparameters");
                if (!first(hp ? Hp : Results))
                    return false;
                QCborMap &map = hp ? job->hyperparameters : job->results;
                if (w.peek('{')) {
                    if (!w.shapedMap(JobValueDepth, hp ? &context->hyperparameters : &context->results, &map))
                        return false;
                } else {
                    if (!w.value(JobValueDepth, &v) || !(v.isMap() || v.isNull()))
                        return false;
                    if (v.isMap())
                        map = v.toMap();
                }
            } else if (k == QLatin1StringView("createdAt") || k == QLatin1StringView("modifiedAt")) {
                const bool created = k == QLatin1StringView("createdAt");
                if (!first(created ? Created : Modified) || !w.value(JobValueDepth, &v))
                    return false;
                if (json::isNumber(v))
                    (created ? job->createdAt : job->modifiedAt) = json::toDouble(v);
            } else if (k == QLatin1StringView("generation")) {
                if (!first(Generation) || !w.value(JobValueDepth, &v))
                    return false;
                if (json::isNumber(v))
                    job->generation = v.toInteger();
            } else if (k == QLatin1StringView("parent") || k == QLatin1StringView("member")) {
                const bool parent = k == QLatin1StringView("parent");
                if (!first(parent ? Parent : Member) ||
                    !w.string(JobValueDepth, parent ? &job->parent : &job->member, &isString))
                    return false;
            } else if (!w.value(JobValueDepth, &v)) { // another extension: read if known
                return false;
            } else {
                codec::readJobExtension(k, v, job);
            }
        } while (w.take(','));
        if (!w.take('}'))
            return false;
    }
    return (seen & (Id | Experiment | Status)) == (Id | Experiment | Status);
}

} // namespace

// A page's "next" cursor read from the end of its body, before the page is
// decoded: listings end with it (`..., "next": "CURSOR"}`), as our server and the
// original service write them. Empty when the end does not look like that (or
// there is no next page); the decoded page confirms the cursor either way.
QString peekNextCursor(const QByteArray &body)
{
    qsizetype e = body.size();
    const auto skipSpace = [&] {
        while (e > 0 &&
               (body[e - 1] == ' ' || body[e - 1] == '\n' || body[e - 1] == '\r' || body[e - 1] == '\t'))
            --e;
    };
    const auto expect = [&](char c) {
        skipSpace();
        if (e < 1 || body[e - 1] != c)
            return false;
        --e;
        return true;
    };
    if (!expect('}') || !expect('"'))
        return {};
    const qsizetype close = e;
    const qsizetype open = body.lastIndexOf('"', close - 1);
    if (open < 0)
        return {};
    const QByteArrayView cursor(body.constData() + open + 1, close - open - 1);
    if (cursor.isEmpty() || cursor.contains('\\'))
        return {};
    e = open;
    if (!expect(':'))
        return {};
    skipSpace();
    if (e < 6 || QByteArrayView(body.constData() + e - 6, 6) != QByteArrayView("\"next\""))
        return {};
    e -= 6;
    skipSpace();
    if (e < 1 || (body[e - 1] != ',' && body[e - 1] != '{'))
        return {};
    return QString::fromUtf8(cursor);
}

std::optional<Page<Job>> decodeJobPageFast(const QByteArray &body)
{
    Walker w(body);
    Page<Job> page;
    PageContext context;
    bool items = false;
    bool next = false;
    if (!w.take('{') || w.peek('}'))
        return std::nullopt;
    do {
        QLatin1StringView k;
        if (!w.key(&k))
            return std::nullopt;
        if (k == QLatin1StringView("items")) {
            if (items || !w.take('['))
                return std::nullopt;
            items = true;
            if (!w.take(']')) {
                do {
                    Job job;
                    if (!decodeJob(w, &job, &context))
                        return std::nullopt;
                    page.items.append(std::move(job));
                } while (w.take(','));
                if (!w.take(']'))
                    return std::nullopt;
            }
        } else if (k == QLatin1StringView("next")) {
            QCborValue v;
            if (next || !w.value(1, &v) || !(v.isString() || v.isNull()))
                return std::nullopt;
            next = true;
            page.next = v.toString();
        } else {
            QCborValue ignored;
            if (!w.value(1, &ignored))
                return std::nullopt;
        }
    } while (w.take(','));
    if (!w.take('}') || !w.atEnd() || !items)
        return std::nullopt;
    return page;
}

} // namespace schedy::detail
