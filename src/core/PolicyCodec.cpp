// The codec of docs/protocol.md section 8: the experiment keys sampler, pruner and
// lease, and the job document's extensions that report what they did.
#include "Codec.h"

#include "CodecSupport.h"

#include <algorithm>

namespace schedy::codec {

using namespace detail;

namespace {

std::optional<DecodeError> readDirection(const QCborMap &o, const QString &path, Objective *out)
{
    const QCborValue v = o.value(QStringLiteral("direction"));
    const QString p = join(path, QStringLiteral("direction"));
    if (!v.isString())
        return wrongType(p, QStringLiteral("\"minimize\" or \"maximize\""), v);
    if (v.toString() == QLatin1String("minimize"))
        *out = Objective::Minimize;
    else if (v.toString() == QLatin1String("maximize"))
        *out = Objective::Maximize;
    else
        return err(
            p, QStringLiteral("must be \"minimize\" or \"maximize\", not \"%1\"").arg(v.toString().left(40)));
    return std::nullopt;
}

std::optional<DecodeError> readResultName(const QCborMap &o, const QString &path, QString *out)
{
    const QCborValue v = o.value(QStringLiteral("result"));
    const QString p = join(path, QStringLiteral("result"));
    if (!v.isString())
        return wrongType(p, QStringLiteral("the name of a result"), v);
    if (v.toString().isEmpty())
        return err(p, QStringLiteral("must not be empty"));
    *out = v.toString();
    return std::nullopt;
}

// An optional integer key in [min, max]; absent or null leaves *out unset.
std::optional<DecodeError> readOptionalInteger(const QCborMap &o, const char *key, const QString &path,
                                               qint64 min, qint64 max, std::optional<qint64> *out)
{
    const QCborValue v = o.value(QLatin1String(key));
    if (v.isUndefined() || v.isNull())
        return std::nullopt;
    qint64 i = 0;
    if (auto e = readInteger(v, join(path, QLatin1String(key)), min, max, &i))
        return e;
    *out = i;
    return std::nullopt;
}

// The object of a sampler or pruner and its "kind", e.g. what = "sampler".
template <typename Kind>
std::optional<DecodeError>
readKind(const QCborValue &v, const QString &path, const QString &what, const QString &expected,
         std::optional<Kind> (*fromString)(const QString &), Kind *kind, QCborMap *object)
{
    if (!v.isMap())
        return wrongType(path, QStringLiteral("an object with a \"kind\" (%1)").arg(expected), v);
    *object = v.toMap();
    const QCborValue k = object->value(QStringLiteral("kind"));
    const QString p = join(path, QStringLiteral("kind"));
    if (!k.isString())
        return wrongType(p, QStringLiteral("the %1's name (%2)").arg(what, expected), k);
    const std::optional<Kind> known = fromString(k.toString());
    if (!known)
        return err(
            p, QStringLiteral("unknown %1 \"%2\" (expected %3)").arg(what, k.toString().left(40), expected));
    *kind = *known;
    return std::nullopt;
}

constexpr qint64 MaxSeed = std::numeric_limits<qint64>::max();
constexpr qint64 MaxCount = 1000000000; // any count of jobs, steps or candidates a search can use

template <typename T> QCborValue encodeOrNull(const std::optional<T> &value)
{
    return value ? QCborValue(encode(*value)) : QCborValue(QCborValue::Null);
}

template <typename T>
KeyUpdate<T> keyUpdate(const QCborMap &o, const char *key, const std::optional<T> &decoded)
{
    using A = typename KeyUpdate<T>::Action;
    const QCborValue x = o.value(QLatin1String(key));
    return KeyUpdate<T>{x.isUndefined() ? A::Keep : x.isNull() ? A::Remove : A::Set, decoded};
}

} // namespace

QCborMap encode(const SamplerSpec &s)
{
    QCborMap o{{QStringLiteral("kind"), toString(s.kind)}};
    if (s.kind == SamplerSpec::Kind::Grid) {
        QCborMap steps;
        for (auto it = s.steps.begin(); it != s.steps.end(); ++it)
            steps.insert(it.key(), it.value());
        o.insert(QStringLiteral("steps"), steps);
    }
    if (s.kind == SamplerSpec::Kind::Tpe) {
        o.insert(QStringLiteral("result"), s.result);
        o.insert(QStringLiteral("direction"), directionName(s.direction));
        if (s.startupJobs)
            o.insert(QStringLiteral("startupJobs"), *s.startupJobs);
        if (s.candidates)
            o.insert(QStringLiteral("candidates"), *s.candidates);
    }
    if (s.seed && (s.kind == SamplerSpec::Kind::Sobol || s.kind == SamplerSpec::Kind::Tpe))
        o.insert(QStringLiteral("seed"), *s.seed);
    return o;
}

QCborMap encode(const PrunerSpec &p)
{
    QCborMap o{{QStringLiteral("kind"), toString(p.kind)},
               {QStringLiteral("result"), p.result},
               {QStringLiteral("direction"), directionName(p.direction)}};
    const auto put = [&o](const char *key, const std::optional<qint64> &v) {
        if (v)
            o.insert(QLatin1String(key), *v);
    };
    if (p.kind == PrunerSpec::Kind::Median) {
        put("startupJobs", p.startupJobs);
        put("warmupSteps", p.warmupSteps);
    } else {
        put("minSteps", p.minSteps);
        put("reductionFactor", p.reductionFactor);
    }
    return o;
}

QCborMap encode(const LeaseSpec &l)
{
    QCborMap o{{QStringLiteral("seconds"), l.seconds}};
    if (l.retries)
        o.insert(QStringLiteral("retries"), *l.retries);
    return o;
}

QCborMap encodeReplacement(const Experiment &e)
{
    QCborMap o = encode(e);
    o.insert(QStringLiteral("sampler"), encodeOrNull(e.sampler));
    o.insert(QStringLiteral("pruner"), encodeOrNull(e.pruner));
    o.insert(QStringLiteral("lease"), encodeOrNull(e.lease));
    return o;
}

Decoded<SamplerSpec> decodeSampler(const QCborValue &v, const QString &path)
{
    SamplerSpec s;
    QCborMap o;
    if (auto e = readKind(v, path, QStringLiteral("sampler"), QStringLiteral("random, grid, sobol or tpe"),
                          &samplerKindFromString, &s.kind, &o))
        return *e;
    switch (s.kind) {
    case SamplerSpec::Kind::Random:
        if (auto e = onlyKeys(o, path, {"kind"}))
            return *e;
        break;
    case SamplerSpec::Kind::Grid: {
        if (auto e = onlyKeys(o, path, {"kind", "steps"}))
            return *e;
        const QCborValue steps = o.value(QStringLiteral("steps"));
        const QString sp = join(path, QStringLiteral("steps"));
        if (steps.isUndefined() || steps.isNull())
            break; // a grid of choices and constants needs none; checkPolicies() tells
        if (!steps.isMap())
            return wrongType(sp, QStringLiteral("an object of points per hyperparameter"), steps);
        const QCborMap so = steps.toMap();
        for (auto it = so.begin(); it != so.end(); ++it) {
            qint64 n = 0;
            if (auto e = readInteger(it.value(), join(sp, it.key().toString()), 1, MaxGridPoints, &n))
                return *e;
            s.steps.insert(it.key().toString(), n);
        }
        break;
    }
    case SamplerSpec::Kind::Sobol:
        if (auto e = onlyKeys(o, path, {"kind", "seed"}))
            return *e;
        break;
    case SamplerSpec::Kind::Tpe:
        if (auto e = onlyKeys(o, path, {"kind", "result", "direction", "startupJobs", "candidates", "seed"}))
            return *e;
        if (auto e = readResultName(o, path, &s.result))
            return *e;
        if (auto e = readDirection(o, path, &s.direction))
            return *e;
        if (auto e = readOptionalInteger(o, "startupJobs", path, 0, MaxCount, &s.startupJobs))
            return *e;
        if (auto e = readOptionalInteger(o, "candidates", path, 1, MaxCount, &s.candidates))
            return *e;
        break;
    }
    if (auto e = readOptionalInteger(o, "seed", path, 0, MaxSeed, &s.seed))
        return *e;
    return s;
}

Decoded<PrunerSpec> decodePruner(const QCborValue &v, const QString &path)
{
    PrunerSpec p;
    QCborMap o;
    if (auto e = readKind(v, path, QStringLiteral("pruner"), QStringLiteral("median or asha"),
                          &prunerKindFromString, &p.kind, &o))
        return *e;
    if (p.kind == PrunerSpec::Kind::Median) {
        if (auto e = onlyKeys(o, path, {"kind", "result", "direction", "startupJobs", "warmupSteps"}))
            return *e;
    } else if (auto e = onlyKeys(o, path, {"kind", "result", "direction", "minSteps", "reductionFactor"})) {
        return *e;
    }
    if (auto e = readResultName(o, path, &p.result))
        return *e;
    if (auto e = readDirection(o, path, &p.direction))
        return *e;
    if (auto e = readOptionalInteger(o, "startupJobs", path, 0, MaxCount, &p.startupJobs))
        return *e;
    if (auto e = readOptionalInteger(o, "warmupSteps", path, 0, MaxCount, &p.warmupSteps))
        return *e;
    if (auto e = readOptionalInteger(o, "minSteps", path, 1, MaxCount, &p.minSteps))
        return *e;
    if (auto e = readOptionalInteger(o, "reductionFactor", path, 2, 1000, &p.reductionFactor))
        return *e;
    return p;
}

Decoded<LeaseSpec> decodeLease(const QCborValue &v, const QString &path)
{
    if (!v.isMap())
        return wrongType(path, QStringLiteral("an object {\"seconds\": S, \"retries\": N}"), v);
    const QCborMap o = v.toMap();
    if (auto e = onlyKeys(o, path, {"seconds", "retries"}))
        return *e;
    LeaseSpec l;
    const QCborValue seconds = o.value(QStringLiteral("seconds"));
    const QString sp = join(path, QStringLiteral("seconds"));
    if (!json::isNumber(seconds))
        return wrongType(sp, QStringLiteral("a number of seconds"), seconds);
    if (!(json::toDouble(seconds) > 0))
        return err(sp, QStringLiteral("must be greater than 0"));
    if (!json::toInteger(seconds, &l.seconds))
        return err(sp, QStringLiteral("must be a whole number of seconds"));
    if (l.seconds > LeaseSpec::MaxSeconds)
        return err(sp, QStringLiteral("must be at most %1 (a year)").arg(LeaseSpec::MaxSeconds));
    if (auto e = readOptionalInteger(o, "retries", path, 0, LeaseSpec::MaxRetries, &l.retries))
        return *e;
    return l;
}

std::optional<DecodeError> checkPolicies(const Experiment &e)
{
    const Scheduler &s = e.scheduler;
    const QString scheduler = toString(s.kind);
    if (e.sampler && s.kind != Scheduler::Kind::RandomSearch) {
        return err(QStringLiteral("sampler"),
                   QStringLiteral("only a RandomSearch has a sampler, not a %1 experiment "
                                  "(\"sampler\": null removes it)")
                       .arg(scheduler));
    }
    if (e.pruner && s.kind == Scheduler::Kind::Pbt) {
        return err(QStringLiteral("pruner"),
                   QStringLiteral("a PBT experiment cannot have a pruner (\"pruner\": null removes it)"));
    }
    if (e.sampler && e.sampler->kind == SamplerSpec::Kind::Grid) {
        const QString sp = QStringLiteral("sampler.steps");
        for (auto it = e.sampler->steps.begin(); it != e.sampler->steps.end(); ++it) {
            const auto d = std::find_if(s.distributions.begin(), s.distributions.end(),
                                        [&](const NamedDistribution &nd) { return nd.name == it.key(); });
            if (d == s.distributions.end())
                return err(join(sp, it.key()), QStringLiteral("is not a hyperparameter of the scheduler"));
            const Distribution::Kind kind = d->distribution.kind;
            if (kind == Distribution::Kind::Choice || kind == Distribution::Kind::Const) {
                return err(join(sp, it.key()), QStringLiteral("is a %1: its values are the grid's points, "
                                                              "it takes no steps")
                                                   .arg(toString(kind)));
            }
        }
        for (const NamedDistribution &nd : s.distributions) {
            const Distribution::Kind kind = nd.distribution.kind;
            if (kind != Distribution::Kind::Choice && kind != Distribution::Kind::Const &&
                !e.sampler->steps.contains(nd.name)) {
                return err(sp, QStringLiteral("the %1 hyperparameter \"%2\" needs a number of points")
                                   .arg(toString(kind), nd.name));
            }
        }
        if (gridSize(s, *e.sampler).value_or(0) > MaxGridPoints)
            return err(sp, QStringLiteral("the grid has more than %1 points").arg(MaxGridPoints));
    }
    return std::nullopt;
}

Decoded<ExperimentUpdate> decodeExperimentUpdate(const QCborValue &v)
{
    auto e = decodeExperiment(v);
    if (!e)
        return e.error();
    ExperimentUpdate u;
    u.experiment = e.value();
    const QCborMap o = v.toMap();
    u.sampler = keyUpdate(o, "sampler", u.experiment.sampler);
    u.pruner = keyUpdate(o, "pruner", u.experiment.pruner);
    u.lease = keyUpdate(o, "lease", u.experiment.lease);
    return u;
}

namespace detail {

std::optional<DecodeError> readPolicies(const QCborMap &o, Experiment *e)
{
    const QCborValue sampler = o.value(QStringLiteral("sampler"));
    if (!sampler.isUndefined() && !sampler.isNull()) {
        auto s = decodeSampler(sampler);
        if (!s)
            return s.error();
        e->sampler = s.value();
    }
    const QCborValue pruner = o.value(QStringLiteral("pruner"));
    if (!pruner.isUndefined() && !pruner.isNull()) {
        auto p = decodePruner(pruner);
        if (!p)
            return p.error();
        e->pruner = p.value();
    }
    const QCborValue lease = o.value(QStringLiteral("lease"));
    if (!lease.isUndefined() && !lease.isNull()) {
        auto l = decodeLease(lease);
        if (!l)
            return l.error();
        e->lease = l.value();
    }
    return checkPolicies(*e);
}

void encodePolicies(const Experiment &e, QCborMap *o)
{
    if (e.sampler)
        o->insert(QStringLiteral("sampler"), encode(*e.sampler));
    if (e.pruner)
        o->insert(QStringLiteral("pruner"), encode(*e.pruner));
    if (e.lease)
        o->insert(QStringLiteral("lease"), encode(*e.lease));
}

} // namespace detail

bool readJobExtension(QAnyStringView key, const QCborValue &value, Job *job)
{
    const auto reason = [job]() -> PruneInfo & {
        if (!job->pruned)
            job->pruned = PruneInfo{};
        return *job->pruned;
    };
    qint64 i = 0;
    if (key == u"gridIndex") {
        if (json::toInteger(value, &i))
            job->gridIndex = i;
    } else if (key == u"prunedAt") {
        if (json::toInteger(value, &i))
            reason().step = i;
    } else if (key == u"pruneRule") {
        if (const auto rule = prunerKindFromString(value.toString()))
            reason().rule = *rule;
    } else if (key == u"pruneValue") {
        if (json::isNumber(value))
            reason().value = json::toDouble(value);
    } else if (key == u"pruneThreshold") {
        if (json::isNumber(value))
            reason().threshold = json::toDouble(value);
    } else if (key == u"lostAt") {
        if (json::isNumber(value))
            job->lostAt = json::toDouble(value);
    } else if (key == u"replacedBy") {
        job->replacedBy = value.toString();
    } else if (key == u"replaces") {
        job->replaces = value.toString();
    } else {
        return false;
    }
    return true;
}

void detail::encodeJobExtensions(const Job &j, QCborMap *o)
{
    if (j.gridIndex)
        o->insert(QStringLiteral("gridIndex"), *j.gridIndex);
    if (j.pruned) {
        o->insert(QStringLiteral("prunedAt"), j.pruned->step);
        o->insert(QStringLiteral("pruneRule"), toString(j.pruned->rule));
        if (j.pruned->value)
            o->insert(QStringLiteral("pruneValue"), *j.pruned->value);
        if (j.pruned->threshold)
            o->insert(QStringLiteral("pruneThreshold"), *j.pruned->threshold);
    }
    if (j.lostAt)
        o->insert(QStringLiteral("lostAt"), *j.lostAt);
    if (!j.replacedBy.isEmpty())
        o->insert(QStringLiteral("replacedBy"), j.replacedBy);
    if (!j.replaces.isEmpty())
        o->insert(QStringLiteral("replaces"), j.replaces);
}

} // namespace schedy::codec
