#pragma once

#include "Json.h"
#include "Types.h"

#include <QAnyStringView>
#include <QByteArray>
#include <QCborMap>
#include <QString>

#include <optional>
#include <variant>

// The wire codec: the only code that knows how documents of docs/protocol.md
// section 3 look. Decoding validates everything and names the field at fault.
namespace schedy {

struct DecodeError
{
    QString path;   // e.g. "scheduler.PBT.exploit.truncate"
    QString reason; // e.g. "must be in (0, 0.5]"
    QString message() const { return path.isEmpty() ? reason : path + QStringLiteral(": ") + reason; }
};

template <typename T> class Decoded
{
public:
    Decoded(T value)
        : m_v(std::move(value))
    {}
    Decoded(DecodeError error)
        : m_v(std::move(error))
    {}
    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }
    const T &value() const { return std::get<0>(m_v); }
    T &value() { return std::get<0>(m_v); }
    const T &operator*() const { return value(); }
    const T *operator->() const { return &value(); }
    const DecodeError &error() const { return std::get<1>(m_v); }

private:
    std::variant<T, DecodeError> m_v;
};

namespace codec {

// Documents.
QCborValue encode(const Distribution &d);
QCborMap encode(const Distributions &d);
QCborMap encode(const PbtSettings &pbt);
QCborMap encode(const Scheduler &s);
// An experiment as the server answers it: section-8 keys only when set.
QCborMap encode(const Experiment &e);
// A PUT body that replaces the whole definition, as an editor that read the
// experiment sends it: every section-8 key written, null when unset (removes it).
QCborMap encodeReplacement(const Experiment &e);
QCborMap encode(const SamplerSpec &s);
QCborMap encode(const PrunerSpec &p);
QCborMap encode(const LeaseSpec &l);
QCborMap encode(const Job &j);
QCborMap encode(const JobWrite &j);

Decoded<Distribution> decodeDistribution(const QCborValue &v, const QString &path = {});
Decoded<Distributions> decodeDistributions(const QCborValue &v, const QString &path = {});
Decoded<PbtSettings> decodePbt(const QCborValue &v, const QString &path = {});
Decoded<Scheduler> decodeScheduler(const QCborValue &v, const QString &path = QStringLiteral("scheduler"));
// An experiment as sent by PUT (status optional, name optional) or received;
// a null or absent section-8 key is unset.
Decoded<Experiment> decodeExperiment(const QCborValue &v);
// A PUT body with section 8's keep / remove / set told apart. The keys it sets are
// checked against its scheduler; the server checks the merged result again.
Decoded<ExperimentUpdate> decodeExperimentUpdate(const QCborValue &v);
Decoded<SamplerSpec> decodeSampler(const QCborValue &v, const QString &path = QStringLiteral("sampler"));
Decoded<PrunerSpec> decodePruner(const QCborValue &v, const QString &path = QStringLiteral("pruner"));
Decoded<LeaseSpec> decodeLease(const QCborValue &v, const QString &path = QStringLiteral("lease"));
// Section 8's rules between keys of a whole experiment: a sampler only on a
// RandomSearch, a grid's steps for exactly its numeric hyperparameters and at
// most MaxGridPoints points, no pruner on PBT. The error names the key.
std::optional<DecodeError> checkPolicies(const Experiment &e);
Decoded<Job> decodeJob(const QCborValue &v);
// Reads one of the job document's section-8 extension keys (gridIndex, prunedAt,
// pruneRule, pruneValue, pruneThreshold, lostAt, replacedBy, replaces) into `job`;
// false for any other key. A value of the wrong type is ignored, as for other extensions.
bool readJobExtension(QAnyStringView key, const QCborValue &value, Job *job);
// A job body of POST (status optional, defaults to QUEUED) or PUT (status required).
Decoded<JobWrite> decodeJobWrite(const QCborValue &v, bool statusRequired);

Decoded<Page<Experiment>> decodeExperimentPage(const QCborValue &v);
Decoded<Page<Job>> decodeJobPage(const QCborValue &v);
QCborMap encodePage(const QCborArray &items, const QString &next);

// The wire text of a job whose hyperparameters and results are already JSON
// text (as the server stores them); equal to json::write(encode(job)).
QByteArray writeJobDocument(const Job &job, const QByteArray &hyperparametersJson,
                            const QByteArray &resultsJson);

// Text helpers: parse then decode, with a JSON syntax error reported as such.
Decoded<QCborValue> parseJson(const QByteArray &body);

} // namespace codec
} // namespace schedy
