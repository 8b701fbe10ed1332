#pragma once

// Transactions and retry: the one database connection of a SqlStore, its
// prepared statements, the error bookkeeping that tells a busy database or a
// lost race from a fault, and the transaction that runs again from the start
// when PostgreSQL rolled it back because of another process.

#include "Store.h"

#include <QHash>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QString>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <thread>

namespace schedy::server {

class SqlConnection
{
public:
    enum class Dialect { SQLite, PostgreSQL };

    explicit SqlConnection(const QString &url);
    ~SqlConnection();
    SqlConnection(const SqlConnection &) = delete;
    SqlConnection &operator=(const SqlConnection &) = delete;

    // Opens and configures the connection (not the schema).
    bool open(QString *error);
    Dialect dialect() const { return m_dialect; }
    bool isPostgres() const { return m_dialect == Dialect::PostgreSQL; }
    QSqlDatabase database() const { return m_db; }
    const QString &lastError() const { return m_lastError; }

    // Tests: while set, every statement fails with `error` as if the database had
    // answered it (for failures a test cannot cause for real, such as an I/O error
    // on SQLite); nullopt ends it.
    void setInjectedFailure(std::optional<QSqlError> error) { m_injectedFailure = std::move(error); }

    // A statement prepared once per connection; `sql` must be a string literal
    // (its address is the key).
    QSqlQuery &prepared(const char *sql);
    bool exec(QSqlQuery &q);
    bool execRaw(const QString &sql);

    // The time of the current operation: strictly increasing within this process,
    // so modifiedSince never misses a change.
    double now();
    double lastNow() const { return m_lastNow; }
    bool inTransaction() const { return m_inTransaction; }

    // A statement of the current transaction failed: a lookup that found no row
    // then says nothing about the row (a failed query is never "not found").
    bool statementFailed() const { return m_statementFailed; }

    // Why the last operation failed, as the HTTP layer should answer it.
    enum class Failure {
        Conflict,    // busy, or a race lost to another process: running it again may work
        Unavailable, // the database cannot be reached or refused the work for now
        DiskFull,    // the database has no space left
        Fault        // anything else (a bug, a corrupt database): 500
    };
    Failure lastFailure() const { return m_lastFailure; }

    // What a failed operation answers: 503 (Busy, with Retry-After) while the database
    // is busy, unreachable or full, as running it again later may work; 500 otherwise.
    // "Nothing was changed" only when that is known: a COMMIT whose answer was lost
    // with the PostgreSQL connection may have been applied.
    template <typename T> StoreResult<T> failure() const
    {
        return StoreResult<T>::fail(m_lastFailure == Failure::Fault ? StoreStatus::Error : StoreStatus::Busy,
                                    failureMessage());
    }
    QString failureMessage() const;

    // Runs `attempt` (one transaction returning a StoreResult) again from the start when
    // PostgreSQL rolled it back because of a concurrent one (another process); nothing
    // of a rolled back attempt was applied.
    template <typename F> auto retrying(F attempt) -> decltype(attempt())
    {
        constexpr int MaxAttempts = 8;
        for (int i = 1;; ++i) {
            m_lastErrorRetryable = false;
            auto r = attempt();
            const bool failed = r.status == StoreStatus::Busy || r.status == StoreStatus::Error;
            if (!failed || !m_lastErrorRetryable || i == MaxAttempts)
                return r;
            std::this_thread::sleep_for(std::chrono::microseconds(200 * (1 << std::min(i, 5)) +
                                                                  QRandomGenerator::global()->bounded(1000)));
        }
    }

    class Transaction;

private:
    void noteError(const QSqlError &error);
    bool notConnected();
    Failure classify(const QSqlError &error) const;
    // A failure that is not a fault starts an outage: logged once with its cause,
    // and its end once with the number of operations it failed.
    void noteOutage(const QSqlError &error);
    void noteSuccess();
    bool reconnect();
    bool configurePostgres();

    QString m_url;
    QString m_connectionName;
    Dialect m_dialect = Dialect::SQLite;
    QSqlDatabase m_db;
    QHash<const char *, QSqlQuery> m_queries;
    QSqlQuery m_unprepared; // handed out when a statement cannot be prepared
    QString m_lastError;
    Failure m_lastFailure = Failure::Fault;
    bool m_lastErrorRetryable = false;
    bool m_commitUncertain = false; // the last COMMIT's outcome is unknown (PostgreSQL connection lost)
    bool m_inOutage = false;
    std::optional<QSqlError> m_injectedFailure;
    bool m_statementFailed = false; // in the current transaction
    bool m_inTransaction = false;
    double m_lastNow = 0;
};

// BEGIN IMMEDIATE on SQLite takes the write lock up front, so two processes
// never deadlock upgrading read locks. PostgreSQL writes run in READ COMMITTED
// and take row locks (the experiment row, FOR NO KEY UPDATE, serializes the
// scheduling of one experiment; a job row, FOR UPDATE, its ETag check); reads
// run in one REPEATABLE READ snapshot, so a page and its total agree. A
// PostgreSQL connection found broken at BEGIN is opened again (nothing was
// sent yet, so nothing can be applied twice). Rolled back unless committed.
class SqlConnection::Transaction
{
public:
    explicit Transaction(SqlConnection &connection, bool write = true);
    ~Transaction();
    Transaction(const Transaction &) = delete;
    Transaction &operator=(const Transaction &) = delete;
    bool ok() const { return m_ok; }
    bool commit();

private:
    void rollbackKeepingError();

    SqlConnection &m_c;
    bool m_ok = false;
    bool m_done = false;
};

} // namespace schedy::server
