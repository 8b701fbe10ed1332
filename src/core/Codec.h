#pragma once

#include "Json.h"
#include "Types.h"

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
QCborMap encode(const Experiment &e);
QCborMap encode(const Job &j);
QCborMap encode(const JobWrite &j);

Decoded<Distribution> decodeDistribution(const QCborValue &v, const QString &path = {});
Decoded<Distributions> decodeDistributions(const QCborValue &v, const QString &path = {});
Decoded<PbtSettings> decodePbt(const QCborValue &v, const QString &path = {});
Decoded<Scheduler> decodeScheduler(const QCborValue &v, const QString &path = QStringLiteral("scheduler"));
// An experiment as sent by PUT (status optional, name optional) or received.
Decoded<Experiment> decodeExperiment(const QCborValue &v);
Decoded<Job> decodeJob(const QCborValue &v);
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
