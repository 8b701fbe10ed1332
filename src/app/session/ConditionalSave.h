#pragma once

#include "ClientError.h"

#include <QByteArray>
#include <QStringList>

#include <functional>
#include <memory>

namespace schedy {

// The one protocol for saving over a version the user saw, shared by Pause/Resume and the
// experiment and job editors: the write goes with If-Match of that version's ETag. A version
// shown without an ETag (a listing item) is read first, and saved over only if it is still what
// was shown. A 412 reads the current version and reports it as a conflict; nothing is saved
// over someone else's change without the user asking again (saveOver()).
template <typename T> class ConditionalSave
{
public:
    using Reply = std::function<void(const ClientError &, const T &)>;
    struct Steps
    {
        std::function<void(Reply)> read;                          // the current version
        std::function<void(const QByteArray &etag, Reply)> write; // If-Match etag (empty: unconditional)
        std::function<QStringList(const T &before, const T &after)> changes; // what differs, in words
    };
    struct Outcome
    {
        enum class Kind { Saved, Conflict, Gone, Failed };
        Kind kind = Kind::Failed;
        T value;              // Saved: what the server kept; Conflict: the current version
        QStringList changes;  // Conflict: what someone else changed
        bool refused = false; // Conflict: the server refused the write (412), not found by reading
        ClientError error;    // Failed
    };
    using Done = std::function<void(const Outcome &)>;

    // Saves over `base` (the version shown).
    static void save(const T &base, Steps steps, Done done)
    {
        auto shared = std::make_shared<const Steps>(std::move(steps));
        if (!base.etag.isEmpty())
            return write(base, shared, std::move(done));
        shared->read([base, shared, done](const ClientError &error, const T &current) {
            if (error.isError())
                return done(failure(error));
            const QStringList changes = shared->changes(base, current);
            if (!changes.isEmpty())
                return done(conflict(current, changes, false));
            write(current, shared, done);
        });
    }
    // After a conflict: deliberately over `current`, and only over it.
    static void saveOver(const T &current, Steps steps, Done done)
    {
        write(current, std::make_shared<const Steps>(std::move(steps)), std::move(done));
    }
    // save() or, when the user chose to replace the version shown, saveOver().
    static void run(const T &base, bool deliberately, Steps steps, Done done)
    {
        if (deliberately)
            saveOver(base, std::move(steps), std::move(done));
        else
            save(base, std::move(steps), std::move(done));
    }

private:
    static Outcome failure(const ClientError &error)
    {
        Outcome o;
        o.kind = error.httpStatus == 404 ? Outcome::Kind::Gone : Outcome::Kind::Failed;
        o.error = error;
        return o;
    }
    static Outcome conflict(const T &current, const QStringList &changes, bool refused)
    {
        Outcome o;
        o.kind = Outcome::Kind::Conflict;
        o.value = current;
        o.changes = changes;
        o.refused = refused;
        return o;
    }
    static void write(const T &base, const std::shared_ptr<const Steps> &steps, Done done)
    {
        steps->write(base.etag, [base, steps, done](const ClientError &error, const T &saved) {
            if (!error.isError()) {
                Outcome o;
                o.kind = Outcome::Kind::Saved;
                o.value = saved;
                return done(o);
            }
            if (error.kind != ClientError::Kind::UnsafeUpdate)
                return done(failure(error));
            // 412: changed (or deleted) since `base`; what it is now is the conflict.
            steps->read([base, steps, done](const ClientError &readError, const T &current) {
                if (readError.isError())
                    return done(failure(readError));
                done(conflict(current, steps->changes(base, current), true));
            });
        });
    }
};

} // namespace schedy
