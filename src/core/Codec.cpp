#include "Codec.h"

#include "CodecSupport.h"
#include "Json.h"

#include <cmath>

namespace schedy::codec {

using namespace detail;

namespace {

QCborValue encodeNumber(double d)
{
    return QCborValue(d);
}

} // namespace

QCborValue encode(const Distribution &d)
{
    QCborMap args;
    switch (d.kind) {
    case Distribution::Kind::Uniform:
    case Distribution::Kind::LogUniform:
        args.insert(QStringLiteral("low"), encodeNumber(d.low));
        args.insert(QStringLiteral("high"), encodeNumber(d.high));
        break;
    case Distribution::Kind::Normal:
        args.insert(QStringLiteral("mean"), encodeNumber(d.mean));
        args.insert(QStringLiteral("std"), encodeNumber(d.std));
        break;
    case Distribution::Kind::Choice: {
        args.insert(QStringLiteral("values"), d.values);
        if (!d.weights.isEmpty()) {
            QCborArray w;
            for (double x : d.weights)
                w.append(x);
            args.insert(QStringLiteral("weights"), w);
        }
        break;
    }
    case Distribution::Kind::Const:
        return QCborMap{{toString(d.kind), d.constant}};
    }
    return QCborMap{{toString(d.kind), args}};
}

QCborMap encode(const Distributions &ds)
{
    QCborMap o;
    for (const NamedDistribution &nd : ds)
        o.insert(nd.name, encode(nd.distribution));
    return o;
}

QCborMap encode(const PbtSettings &pbt)
{
    QCborMap o;
    o.insert(QStringLiteral("objective"),
             pbt.objective == Objective::Minimize ? QStringLiteral("min") : QStringLiteral("max"));
    o.insert(QStringLiteral("qualityResultName"), pbt.qualityResultName);
    o.insert(QStringLiteral("exploit"), QCborMap{{QStringLiteral("truncate"), pbt.truncate}});
    if (!pbt.explore.isEmpty()) {
        QCborMap explore;
        for (const Perturb &p : pbt.explore) {
            explore.insert(p.name, QCborMap{{QStringLiteral("perturb"),
                                             QCborMap{{QStringLiteral("minFactor"), p.minFactor},
                                                      {QStringLiteral("maxFactor"), p.maxFactor}}}});
        }
        o.insert(QStringLiteral("explore"), explore);
    }
    if (!pbt.init.isEmpty())
        o.insert(QStringLiteral("init"), encode(pbt.init));
    if (pbt.numParallel)
        o.insert(QStringLiteral("numParallel"), *pbt.numParallel);
    if (pbt.maxGenerations) {
        // The original client sends maxGenerations and reads max_generations.
        o.insert(QStringLiteral("maxGenerations"), *pbt.maxGenerations);
        o.insert(QStringLiteral("max_generations"), *pbt.maxGenerations);
    }
    return o;
}

QCborMap encode(const Scheduler &s)
{
    switch (s.kind) {
    case Scheduler::Kind::Manual:
        return QCborMap{{toString(s.kind), QCborValue(QCborValue::Null)}};
    case Scheduler::Kind::RandomSearch:
        return QCborMap{{toString(s.kind), encode(s.distributions)}};
    case Scheduler::Kind::Pbt:
        return QCborMap{{toString(s.kind), encode(s.pbt)}};
    }
    return {};
}

QCborMap encode(const Experiment &e)
{
    QCborMap o;
    // A PUT body carries no name (it is in the URL); a stored experiment always has one.
    if (!e.name.isEmpty())
        o.insert(QStringLiteral("name"), e.name);
    o.insert(QStringLiteral("status"), toString(e.status));
    o.insert(QStringLiteral("scheduler"), encode(e.scheduler));
    if (e.createdAt)
        o.insert(QStringLiteral("createdAt"), *e.createdAt);
    if (e.modifiedAt)
        o.insert(QStringLiteral("modifiedAt"), *e.modifiedAt);
    if (e.jobCounts) {
        QCborMap counts;
        for (JobStatus s : AllJobStatuses)
            counts.insert(toString(s), (*e.jobCounts)[s]);
        o.insert(QStringLiteral("jobCounts"), counts);
        // Beside jobCounts, not in it: its values add up to the number of jobs. Absent: none.
        if (e.jobCounts->lost > 0)
            o.insert(QStringLiteral("lostJobs"), e.jobCounts->lost);
    }
    encodePolicies(e, &o);
    return o;
}

QCborMap encode(const Job &j)
{
    QCborMap o;
    o.insert(QStringLiteral("id"), j.id);
    o.insert(QStringLiteral("experiment"), j.experiment);
    o.insert(QStringLiteral("status"), toString(j.status));
    o.insert(QStringLiteral("hyperparameters"), j.hyperparameters);
    o.insert(QStringLiteral("results"), j.results);
    if (j.createdAt)
        o.insert(QStringLiteral("createdAt"), *j.createdAt);
    if (j.modifiedAt)
        o.insert(QStringLiteral("modifiedAt"), *j.modifiedAt);
    if (j.generation)
        o.insert(QStringLiteral("generation"), *j.generation);
    if (!j.parent.isEmpty())
        o.insert(QStringLiteral("parent"), j.parent);
    if (!j.member.isEmpty())
        o.insert(QStringLiteral("member"), j.member);
    encodeJobExtensions(j, &o);
    return o;
}

QCborMap encode(const JobWrite &j)
{
    return QCborMap{{QStringLiteral("status"), toString(j.status)},
                    {QStringLiteral("hyperparameters"), j.hyperparameters},
                    {QStringLiteral("results"), j.results}};
}

Decoded<Distribution> decodeDistribution(const QCborValue &v, const QString &path)
{
    QString key;
    QCborValue arg;
    if (auto e = singleKey(v, path, QStringLiteral("distribution"), &key, &arg))
        return *e;
    const auto kind = distributionKindFromString(key);
    const QString p = join(path, key);
    if (!kind) {
        return err(p, QStringLiteral("unknown distribution (expected uniform, loguniform, normal, "
                                     "choice or const)"));
    }
    Distribution d;
    d.kind = *kind;
    if (d.kind == Distribution::Kind::Const) {
        if (arg.isUndefined())
            return err(p, QStringLiteral("is required"));
        d.constant = arg;
        return d;
    }
    if (!arg.isMap())
        return wrongType(p, QStringLiteral("an object of arguments"), arg);
    const QCborMap a = arg.toMap();
    switch (d.kind) {
    case Distribution::Kind::Uniform:
    case Distribution::Kind::LogUniform:
        if (auto e = onlyKeys(a, p, {"low", "high"}))
            return *e;
        if (auto e = readNumber(a, QStringLiteral("low"), p, &d.low))
            return *e;
        if (auto e = readNumber(a, QStringLiteral("high"), p, &d.high))
            return *e;
        if (!(d.low < d.high))
            return err(join(p, QStringLiteral("low")), QStringLiteral("must be less than high"));
        if (d.kind == Distribution::Kind::LogUniform && !(d.low > 0))
            return err(join(p, QStringLiteral("low")), QStringLiteral("must be greater than 0"));
        break;
    case Distribution::Kind::Normal:
        if (auto e = onlyKeys(a, p, {"mean", "std"}))
            return *e;
        if (auto e = readNumber(a, QStringLiteral("mean"), p, &d.mean))
            return *e;
        if (auto e = readNumber(a, QStringLiteral("std"), p, &d.std))
            return *e;
        if (d.std < 0)
            return err(join(p, QStringLiteral("std")), QStringLiteral("must be at least 0"));
        break;
    case Distribution::Kind::Choice: {
        if (auto e = onlyKeys(a, p, {"values", "weights"}))
            return *e;
        const QCborValue values = a.value(QStringLiteral("values"));
        const QString vp = join(p, QStringLiteral("values"));
        if (!values.isArray())
            return wrongType(vp, QStringLiteral("a list"), values);
        d.values = values.toArray();
        if (d.values.isEmpty())
            return err(vp, QStringLiteral("must not be empty"));
        const QCborValue weights = a.value(QStringLiteral("weights"));
        const QString wp = join(p, QStringLiteral("weights"));
        if (!weights.isUndefined() && !weights.isNull()) {
            if (!weights.isArray())
                return wrongType(wp, QStringLiteral("a list of numbers"), weights);
            const QCborArray w = weights.toArray();
            if (w.size() != d.values.size()) {
                return err(wp, QStringLiteral("must have as many entries as values (%1, not %2)")
                                   .arg(d.values.size())
                                   .arg(w.size()));
            }
            bool anyPositive = false;
            for (qsizetype i = 0; i < w.size(); ++i) {
                const QString ip = wp + QStringLiteral("[%1]").arg(i);
                if (!json::isNumber(w.at(i)))
                    return wrongType(ip, QStringLiteral("a number"), w.at(i));
                const double x = json::toDouble(w.at(i));
                if (!std::isfinite(x) || x < 0)
                    return err(ip, QStringLiteral("must be a finite number of at least 0"));
                anyPositive = anyPositive || x > 0;
                d.weights.append(x);
            }
            if (!anyPositive)
                return err(wp, QStringLiteral("must not all be 0"));
        }
        break;
    }
    case Distribution::Kind::Const:
        break;
    }
    return d;
}

Decoded<Distributions> decodeDistributions(const QCborValue &v, const QString &path)
{
    if (!v.isMap())
        return wrongType(path, QStringLiteral("an object of hyperparameter distributions"), v);
    const QCborMap o = v.toMap();
    Distributions out;
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (it.key().toString().isEmpty())
            return err(path, QStringLiteral("hyperparameter names must not be empty"));
        const QString p = join(path, it.key().toString());
        auto d = decodeDistribution(it.value(), p);
        if (!d)
            return d.error();
        out.append(NamedDistribution{it.key().toString(), d.value()});
    }
    return out;
}

Decoded<PbtSettings> decodePbt(const QCborValue &v, const QString &path)
{
    if (!v.isMap())
        return wrongType(path, QStringLiteral("an object of PBT settings"), v);
    const QCborMap o = v.toMap();
    if (auto e = onlyKeys(o, path,
                          {"objective", "qualityResultName", "exploit", "explore", "init", "numParallel",
                           "maxGenerations", "max_generations"}))
        return *e;
    PbtSettings pbt;

    const QCborValue objective = o.value(QStringLiteral("objective"));
    const QString op = join(path, QStringLiteral("objective"));
    if (!objective.isString())
        return wrongType(op, QStringLiteral("\"min\" or \"max\""), objective);
    if (objective.toString() == QLatin1String("min"))
        pbt.objective = Objective::Minimize;
    else if (objective.toString() == QLatin1String("max"))
        pbt.objective = Objective::Maximize;
    else
        return err(op, QStringLiteral("must be \"min\" or \"max\""));

    const QCborValue quality = o.value(QStringLiteral("qualityResultName"));
    const QString qp = join(path, QStringLiteral("qualityResultName"));
    if (!quality.isString())
        return wrongType(qp, QStringLiteral("a string"), quality);
    if (quality.toString().isEmpty())
        return err(qp, QStringLiteral("must not be empty"));
    pbt.qualityResultName = quality.toString();

    const QString xp = join(path, QStringLiteral("exploit"));
    QString exploitKind;
    QCborValue exploitArg;
    if (auto e = singleKey(o.value(QStringLiteral("exploit")), xp, QStringLiteral("exploit strategy"),
                           &exploitKind, &exploitArg))
        return *e;
    if (exploitKind != QLatin1String("truncate"))
        return err(join(xp, exploitKind), QStringLiteral("unknown exploit strategy (expected truncate)"));
    const QString tp = join(xp, QStringLiteral("truncate"));
    if (!json::isNumber(exploitArg))
        return wrongType(tp, QStringLiteral("a number"), exploitArg);
    pbt.truncate = json::toDouble(exploitArg);
    if (!(pbt.truncate > 0 && pbt.truncate <= 0.5))
        return err(tp, QStringLiteral("must be in (0, 0.5]"));

    const QCborValue explore = o.value(QStringLiteral("explore"));
    const QString ep = join(path, QStringLiteral("explore"));
    if (!explore.isUndefined() && !explore.isNull()) {
        if (!explore.isMap())
            return wrongType(ep, QStringLiteral("an object"), explore);
        const QCborMap eo = explore.toMap();
        for (auto it = eo.begin(); it != eo.end(); ++it) {
            const QString hp = join(ep, it.key().toString());
            QString strategy;
            QCborValue args;
            if (auto e = singleKey(it.value(), hp, QStringLiteral("explore strategy"), &strategy, &args))
                return *e;
            if (strategy != QLatin1String("perturb"))
                return err(join(hp, strategy), QStringLiteral("unknown explore strategy (expected perturb)"));
            const QString pp = join(hp, QStringLiteral("perturb"));
            if (!args.isMap())
                return wrongType(pp, QStringLiteral("an object"), args);
            const QCborMap ao = args.toMap();
            if (auto e = onlyKeys(ao, pp, {"minFactor", "maxFactor"}))
                return *e;
            Perturb perturb;
            perturb.name = it.key().toString();
            if (auto e = readNumber(ao, QStringLiteral("minFactor"), pp, &perturb.minFactor))
                return *e;
            if (auto e = readNumber(ao, QStringLiteral("maxFactor"), pp, &perturb.maxFactor))
                return *e;
            if (!(perturb.minFactor > 0))
                return err(join(pp, QStringLiteral("minFactor")), QStringLiteral("must be greater than 0"));
            if (perturb.minFactor > perturb.maxFactor) {
                return err(join(pp, QStringLiteral("maxFactor")),
                           QStringLiteral("must be at least minFactor"));
            }
            pbt.explore.append(perturb);
        }
    }

    const QCborValue init = o.value(QStringLiteral("init"));
    if (!init.isUndefined() && !init.isNull()) {
        auto d = decodeDistributions(init, join(path, QStringLiteral("init")));
        if (!d)
            return d.error();
        pbt.init = d.value();
    }

    const QCborValue numParallel = o.value(QStringLiteral("numParallel"));
    if (!numParallel.isUndefined() && !numParallel.isNull()) {
        qint64 n = 0;
        if (auto e = readPositiveInteger(numParallel, join(path, QStringLiteral("numParallel")), &n))
            return *e;
        pbt.numParallel = n;
    }

    std::optional<qint64> generations;
    for (const char *key : {"maxGenerations", "max_generations"}) {
        const QCborValue g = o.value(QLatin1String(key));
        if (g.isUndefined() || g.isNull())
            continue;
        qint64 n = 0;
        if (auto e = readPositiveInteger(g, join(path, QLatin1String(key)), &n))
            return *e;
        if (generations && *generations != n) {
            return err(join(path, QStringLiteral("max_generations")),
                       QStringLiteral("must equal maxGenerations"));
        }
        generations = n;
    }
    pbt.maxGenerations = generations;
    return pbt;
}

Decoded<Scheduler> decodeScheduler(const QCborValue &v, const QString &path)
{
    QString key;
    QCborValue arg;
    if (auto e = singleKey(v, path, QStringLiteral("scheduler"), &key, &arg))
        return *e;
    Scheduler s;
    const QString p = join(path, key);
    if (key == QLatin1String("Manual")) {
        s.kind = Scheduler::Kind::Manual;
        if (!arg.isNull() && !(arg.isMap() && arg.toMap().isEmpty()))
            return wrongType(p, QStringLiteral("null"), arg);
    } else if (key == QLatin1String("RandomSearch")) {
        s.kind = Scheduler::Kind::RandomSearch;
        auto d = decodeDistributions(arg, p);
        if (!d)
            return d.error();
        s.distributions = d.value();
    } else if (key == QLatin1String("PBT")) {
        s.kind = Scheduler::Kind::Pbt;
        auto pbt = decodePbt(arg, p);
        if (!pbt)
            return pbt.error();
        s.pbt = pbt.value();
    } else {
        return err(p, QStringLiteral("unknown scheduler (expected Manual, RandomSearch or PBT)"));
    }
    return s;
}

Decoded<Experiment> decodeExperiment(const QCborValue &v)
{
    if (!v.isMap())
        return wrongType({}, QStringLiteral("an experiment object"), v);
    const QCborMap o = v.toMap();
    Experiment e;
    const QCborValue name = o.value(QStringLiteral("name"));
    if (!name.isUndefined() && !name.isNull()) {
        if (!name.isString())
            return wrongType(QStringLiteral("name"), QStringLiteral("a string"), name);
        e.name = name.toString();
    }
    const QCborValue status = o.value(QStringLiteral("status"));
    if (!status.isUndefined()) {
        if (!status.isString())
            return wrongType(QStringLiteral("status"), QStringLiteral("\"RUNNING\" or \"DONE\""), status);
        const auto st = experimentStatusFromString(status.toString());
        if (!st)
            return err(QStringLiteral("status"), QStringLiteral("must be \"RUNNING\" or \"DONE\""));
        e.status = *st;
    }
    auto scheduler = decodeScheduler(o.value(QStringLiteral("scheduler")));
    if (!scheduler)
        return scheduler.error();
    e.scheduler = scheduler.value();
    if (json::isNumber(o.value(QStringLiteral("createdAt"))))
        e.createdAt = json::toDouble(o.value(QStringLiteral("createdAt")));
    if (json::isNumber(o.value(QStringLiteral("modifiedAt"))))
        e.modifiedAt = json::toDouble(o.value(QStringLiteral("modifiedAt")));
    const QCborValue counts = o.value(QStringLiteral("jobCounts"));
    if (counts.isMap()) {
        JobCounts c;
        const QCborMap co = counts.toMap();
        for (JobStatus s : AllJobStatuses)
            c[s] = co.value(toString(s)).toInteger();
        c.lost = o.value(QStringLiteral("lostJobs")).toInteger();
        e.jobCounts = c;
    }
    if (auto error = readPolicies(o, &e))
        return *error;
    return e;
}

namespace {
std::optional<DecodeError> readStatus(const QCborMap &o, JobStatus *out, bool required)
{
    const QCborValue status = o.value(QStringLiteral("status"));
    if (status.isUndefined() && !required)
        return std::nullopt;
    if (!status.isString())
        return wrongType(QStringLiteral("status"), QStringLiteral("a job status"), status);
    const auto st = jobStatusFromString(status.toString());
    if (!st) {
        return err(
            QStringLiteral("status"),
            QStringLiteral("unknown job status \"%1\" (expected QUEUED, RUNNING, CRASHED, PRUNED or DONE)")
                .arg(status.toString().left(40)));
    }
    *out = *st;
    return std::nullopt;
}

std::optional<DecodeError> readObject(const QCborMap &o, const QString &key, QCborMap *out)
{
    const QCborValue v = o.value(key);
    if (v.isUndefined() || v.isNull())
        return std::nullopt;
    if (!v.isMap())
        return wrongType(key, QStringLiteral("an object"), v);
    *out = v.toMap();
    return std::nullopt;
}
} // namespace

Decoded<Job> decodeJob(const QCborValue &v)
{
    if (!v.isMap())
        return wrongType({}, QStringLiteral("a job object"), v);
    const QCborMap o = v.toMap();
    Job j;
    const QCborValue id = o.value(QStringLiteral("id"));
    if (!id.isString())
        return wrongType(QStringLiteral("id"), QStringLiteral("a string"), id);
    j.id = id.toString();
    const QCborValue experiment = o.value(QStringLiteral("experiment"));
    if (!experiment.isString())
        return wrongType(QStringLiteral("experiment"), QStringLiteral("a string"), experiment);
    j.experiment = experiment.toString();
    if (auto e = readStatus(o, &j.status, true))
        return *e;
    if (auto e = readObject(o, QStringLiteral("hyperparameters"), &j.hyperparameters))
        return *e;
    if (auto e = readObject(o, QStringLiteral("results"), &j.results))
        return *e;
    if (json::isNumber(o.value(QStringLiteral("createdAt"))))
        j.createdAt = json::toDouble(o.value(QStringLiteral("createdAt")));
    if (json::isNumber(o.value(QStringLiteral("modifiedAt"))))
        j.modifiedAt = json::toDouble(o.value(QStringLiteral("modifiedAt")));
    if (json::isNumber(o.value(QStringLiteral("generation"))))
        j.generation = o.value(QStringLiteral("generation")).toInteger();
    j.parent = o.value(QStringLiteral("parent")).toString();
    j.member = o.value(QStringLiteral("member")).toString();
    for (auto it = o.begin(); it != o.end(); ++it)
        readJobExtension(it.key().toString(), it.value(), &j);
    return j;
}

Decoded<JobWrite> decodeJobWrite(const QCborValue &v, bool statusRequired)
{
    if (!v.isMap())
        return wrongType({}, QStringLiteral("a job object"), v);
    const QCborMap o = v.toMap();
    JobWrite j;
    if (auto e = readStatus(o, &j.status, statusRequired))
        return *e;
    if (auto e = readObject(o, QStringLiteral("hyperparameters"), &j.hyperparameters))
        return *e;
    if (auto e = readObject(o, QStringLiteral("results"), &j.results))
        return *e;
    return j;
}

namespace {
template <typename T, typename F> Decoded<Page<T>> decodePage(const QCborValue &v, F decodeItem)
{
    if (!v.isMap())
        return wrongType({}, QStringLiteral("a page object"), v);
    const QCborMap o = v.toMap();
    const QCborValue items = o.value(QStringLiteral("items"));
    if (!items.isArray())
        return wrongType(QStringLiteral("items"), QStringLiteral("a list"), items);
    Page<T> page;
    const QCborArray a = items.toArray();
    page.items.reserve(a.size());
    for (qsizetype i = 0; i < a.size(); ++i) {
        auto item = decodeItem(a.at(i));
        if (!item) {
            DecodeError e = item.error();
            e.path = QStringLiteral("items[%1]").arg(i) +
                     (e.path.isEmpty() ? QString() : QLatin1Char('.') + e.path);
            return e;
        }
        page.items.append(std::move(item.value()));
    }
    const QCborValue next = o.value(QStringLiteral("next"));
    if (next.isString())
        page.next = next.toString();
    else if (!next.isNull() && !next.isUndefined())
        return wrongType(QStringLiteral("next"), QStringLiteral("a string or null"), next);
    return page;
}
} // namespace

Decoded<Page<Experiment>> decodeExperimentPage(const QCborValue &v)
{
    return decodePage<Experiment>(v, [](const QCborValue &x) { return decodeExperiment(x); });
}

Decoded<Page<Job>> decodeJobPage(const QCborValue &v)
{
    return decodePage<Job>(v, [](const QCborValue &x) { return decodeJob(x); });
}

QCborMap encodePage(const QCborArray &items, const QString &next)
{
    return QCborMap{
        {QStringLiteral("items"), items},
        {QStringLiteral("next"), next.isEmpty() ? QCborValue(QCborValue::Null) : QCborValue(next)}};
}

QByteArray writeJobDocument(const Job &j, const QByteArray &hyperparametersJson,
                            const QByteArray &resultsJson)
{
    QByteArray out;
    out.reserve(96 + hyperparametersJson.size() + resultsJson.size());
    out += "{\"id\":";
    out += json::write(QCborValue(j.id));
    out += ",\"experiment\":";
    out += json::write(QCborValue(j.experiment));
    out += ",\"status\":\"";
    out += toString(j.status).toLatin1();
    out += "\",\"hyperparameters\":";
    out += hyperparametersJson.isEmpty() ? QByteArray("{}") : hyperparametersJson;
    out += ",\"results\":";
    out += resultsJson.isEmpty() ? QByteArray("{}") : resultsJson;
    if (j.createdAt) {
        out += ",\"createdAt\":";
        out += json::write(QCborValue(*j.createdAt));
    }
    if (j.modifiedAt) {
        out += ",\"modifiedAt\":";
        out += json::write(QCborValue(*j.modifiedAt));
    }
    if (j.generation) {
        out += ",\"generation\":";
        out += QByteArray::number(*j.generation);
    }
    if (!j.parent.isEmpty()) {
        out += ",\"parent\":";
        out += json::write(QCborValue(j.parent));
    }
    if (!j.member.isEmpty()) {
        out += ",\"member\":";
        out += json::write(QCborValue(j.member));
    }
    QCborMap extensions;
    encodeJobExtensions(j, &extensions);
    for (auto it = extensions.begin(); it != extensions.end(); ++it) {
        out += ',';
        out += json::write(it.key());
        out += ':';
        out += json::write(it.value());
    }
    out += '}';
    return out;
}

Decoded<QCborValue> parseJson(const QByteArray &body)
{
    json::ParseError pe;
    QCborValue v = json::parse(body, &pe);
    if (pe.isError())
        return DecodeError{{},
                           QStringLiteral("malformed JSON at byte %1: %2").arg(pe.offset).arg(pe.message)};
    return v;
}

} // namespace schedy::codec
