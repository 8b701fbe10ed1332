#include "PageDecoder.h"

#include "Json.h"

#include <QLatin1StringView>

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
        skipSpace();
        if (m_p >= m_end || *m_p != '"')
            return false;
        for (const char *q = m_p + 1; q < m_end; ++q) {
            const unsigned char c = static_cast<unsigned char>(*q);
            if (c == '"') {
                *out = QLatin1StringView(m_p + 1, q - m_p - 1);
                m_p = q + 1;
                return take(':');
            }
            if (c == '\\' || c < 0x20)
                return false;
        }
        return false;
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
        skipSpace();
        if (m_p < m_end && *m_p == '"') {
            for (const char *q = m_p + 1; q < m_end; ++q) {
                const unsigned char c = static_cast<unsigned char>(*q);
                if (c == '"') {
                    *out = QString::fromUtf8(m_p + 1, q - m_p - 1);
                    *isString = true;
                    m_p = q + 1;
                    return true;
                }
                if (c == '\\' || c < 0x20)
                    break;
            }
        }
        QCborValue v;
        if (!value(depth, &v))
            return false;
        *isString = v.isString();
        *out = v.toString();
        return true;
    }

private:
    void skipSpace()
    {
        while (m_p < m_end && (*m_p == ' ' || *m_p == '\t' || *m_p == '\n' || *m_p == '\r'))
            ++m_p;
    }

    const char *m_p;
    const char *m_end;
};

// Nesting of the values inside a job of a page: page { items [ job { value.
constexpr int JobValueDepth = 3;

bool decodeJob(Walker &w, Job *job)
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
            if (k == QLatin1StringView("id") || k == QLatin1StringView("experiment")) {
                const bool id = k == QLatin1StringView("id");
                if (!first(id ? Id : Experiment) ||
                    !w.string(JobValueDepth, id ? &job->id : &job->experiment, &isString) || !isString)
                    return false;
            } else if (k == QLatin1StringView("status")) {
                QString status;
                if (!first(Status) || !w.string(JobValueDepth, &status, &isString) || !isString)
                    return false;
                const auto s = jobStatusFromString(status);
                if (!s)
                    return false;
                job->status = *s;
            } else if (k == QLatin1StringView("hyperparameters") || k == QLatin1StringView("results")) {
                const bool hp = k == QLatin1StringView("hyperparameters");
                if (!first(hp ? Hp : Results) || !w.value(JobValueDepth, &v))
                    return false;
                if (v.isMap())
                    (hp ? job->hyperparameters : job->results) = v.toMap();
                else if (!v.isNull())
                    return false;
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
            } else if (!w.value(JobValueDepth, &v)) { // an extension: checked, then ignored
                return false;
            }
        } while (w.take(','));
        if (!w.take('}'))
            return false;
    }
    return (seen & (Id | Experiment | Status)) == (Id | Experiment | Status);
}

} // namespace

std::optional<Page<Job>> decodeJobPageFast(const QByteArray &body)
{
    Walker w(body);
    Page<Job> page;
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
                    if (!decodeJob(w, &job))
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
