#include "PolicyOptions.h"

#include "Codec.h"
#include "Json.h"

namespace schedy::cli {
namespace {

using Kind = OptionSpec::Kind;

// Which option sets which key of the documents, for messages.
struct KeyOption
{
    const char *path;
    const char *option;
};
constexpr KeyOption KeyOptions[] = {
    {"sampler.kind", "--sampler"},
    {"sampler.result", "--result"},
    {"sampler.direction", "--direction"},
    {"sampler.startupJobs", "--startup-jobs"},
    {"sampler.candidates", "--candidates"},
    {"sampler.seed", "--seed"},
    {"sampler.steps", "--grid-steps"},
    {"pruner.kind", "--pruner"},
    {"pruner.result", "--pruner-result"},
    {"pruner.direction", "--pruner-direction"},
    {"pruner.startupJobs", "--pruner-startup-jobs"},
    {"pruner.warmupSteps", "--warmup-steps"},
    {"pruner.minSteps", "--min-steps"},
    {"pruner.reductionFactor", "--reduction-factor"},
    {"lease.seconds", "--lease"},
    {"lease.retries", "--lease-retries"},
    {"sampler", "--sampler"},
    {"pruner", "--pruner"},
    {"lease", "--lease"},
};

QString optionFor(const QString &path, QString *rest)
{
    for (const KeyOption &k : KeyOptions) {
        const QString p = QLatin1String(k.path);
        if (path == p || path.startsWith(p + QLatin1Char('.'))) {
            *rest = path.mid(p.size() + 1); // e.g. the hyperparameter of sampler.steps.lr
            return QLatin1String(k.option);
        }
    }
    return {};
}

// The codec's words, with the option in place of the key.
QString describe(const DecodeError &e, const QString &samplerKind, const QString &prunerKind)
{
    QString rest;
    const QString option = optionFor(e.path, &rest);
    if (option.isEmpty())
        return e.message();
    if (e.reason == QLatin1String("unknown key")) {
        const bool sampler = e.path.startsWith(QLatin1String("sampler."));
        return QStringLiteral("argument %1: does not apply to %2")
            .arg(option, sampler ? QStringLiteral("--sampler ") + samplerKind
                                 : QStringLiteral("--pruner ") + prunerKind);
    }
    if (e.reason == QLatin1String("is required")) {
        return QStringLiteral("%1 %2 needs %3")
            .arg(e.path.startsWith(QLatin1String("sampler")) ? QStringLiteral("--sampler")
                                                             : QStringLiteral("--pruner"),
                 e.path.startsWith(QLatin1String("sampler")) ? samplerKind : prunerKind, option);
    }
    QString reason = e.reason;
    reason.replace(QLatin1String(" (\"sampler\": null removes it)"), QString());
    reason.replace(QLatin1String(" (\"pruner\": null removes it)"), QString());
    if (option == QLatin1String("--grid-steps") && reason.endsWith(QLatin1String("needs a number of points")))
        reason += QStringLiteral(" (--grid-steps NAME=N)");
    return QStringLiteral("argument %1%2: %3")
        .arg(option, rest.isEmpty() ? QString() : QLatin1Char(' ') + rest, reason);
}

// An option's text as a JSON number when it reads as one (the codec then says what is wrong
// with it), else as text (which the codec refuses by type).
QCborValue numberArgument(const QString &text)
{
    json::ParseError pe;
    const QCborValue v = json::parse(text.trimmed().toUtf8(), &pe);
    return !pe.isError() && json::isNumber(v) ? v : QCborValue(text);
}

// "min" and "max" as PBT's --objective spells them are welcome too.
QString directionText(const QString &text)
{
    if (text == QLatin1String("min"))
        return QStringLiteral("minimize");
    if (text == QLatin1String("max"))
        return QStringLiteral("maximize");
    return text;
}

void putIfSet(const ArgParser &p, const char *option, const char *key, QCborMap *o)
{
    if (p.isSet(QLatin1String(option)))
        o->insert(QLatin1String(key), numberArgument(p.value(QLatin1String(option))));
}

} // namespace

QList<OptionSpec> policyOptions()
{
    QList<OptionSpec> specs;
    for (const char *name :
         {"--sampler", "--result", "--direction", "--startup-jobs", "--candidates", "--seed", "--pruner",
          "--pruner-result", "--pruner-direction", "--pruner-startup-jobs", "--warmup-steps", "--min-steps",
          "--reduction-factor", "--lease", "--lease-retries"})
        specs.append(OptionSpec{{}, QLatin1String(name), Kind::Value});
    specs.append(OptionSpec{{}, QStringLiteral("--grid-steps"), Kind::Append});
    return specs;
}

QString policyUsage()
{
    return QStringLiteral(R"(Search strategy (random only; default: independent random draws):
  --sampler random|grid|sobol|tpe
  --grid-steps NAME=N  points of a numeric hyperparameter on a grid (repeat for
                       each; implies --sampler grid)
  --seed N             sobol, tpe
  --result NAME --direction minimize|maximize
                       tpe: the numeric result it models (a curve counts by its
                       last value); also the pruner's unless given below
  --startup-jobs N --candidates N
                       tpe: random draws until N jobs ended (10); draws per new
                       job (24)
Early stopping (manual and random):
  --pruner median|asha [--pruner-result NAME] [--pruner-direction D]
  --pruner-startup-jobs N --warmup-steps N
                       median: after N DONE jobs (5), from step N (0)
  --min-steps N --reduction-factor N
                       asha: first rung (1), keep the best 1/N (4)
Lost workers (every scheduler):
  --lease SECONDS      a RUNNING job silent for longer is lost and replaced
  --lease-retries N    replacements along one chain (1); --retries is the
                       number of HTTP attempts, not this
)");
}

QString applyPolicyOptions(const ArgParser &p, Experiment *e)
{
    const auto set = [&p](const char *option) {
        return p.isSet(QLatin1String(option));
    };
    QString samplerKind = p.value(QStringLiteral("--sampler"));
    if (samplerKind.isEmpty() && set("--grid-steps"))
        samplerKind = QStringLiteral("grid");
    const QString prunerKind = p.value(QStringLiteral("--pruner"));
    if ((set("--result") || set("--direction")) && samplerKind != QLatin1String("tpe") &&
        prunerKind.isEmpty())
        return QStringLiteral("--result and --direction are for --sampler tpe or --pruner");

    Experiment out = *e;
    std::optional<DecodeError> problem;
    if (!samplerKind.isEmpty()) {
        QCborMap o{{QStringLiteral("kind"), samplerKind}};
        if (set("--result"))
            o.insert(QStringLiteral("result"), p.value(QStringLiteral("--result")));
        if (set("--direction"))
            o.insert(QStringLiteral("direction"), directionText(p.value(QStringLiteral("--direction"))));
        putIfSet(p, "--startup-jobs", "startupJobs", &o);
        putIfSet(p, "--candidates", "candidates", &o);
        putIfSet(p, "--seed", "seed", &o);
        if (set("--grid-steps")) {
            QCborMap steps;
            for (const QString &list : p.values(QStringLiteral("--grid-steps"))) {
                for (const QString &spec : list.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
                    const qsizetype eq = spec.lastIndexOf(QLatin1Char('='));
                    if (eq <= 0)
                        return QStringLiteral("argument --grid-steps: '%1' is not NAME=N").arg(spec);
                    steps.insert(spec.left(eq), numberArgument(spec.mid(eq + 1)));
                }
            }
            o.insert(QStringLiteral("steps"), steps);
        }
        auto s = codec::decodeSampler(o);
        if (!s)
            return describe(s.error(), samplerKind, prunerKind);
        out.sampler = s.value();
    } else {
        for (const char *option : {"--startup-jobs", "--candidates", "--seed"}) {
            if (set(option))
                return QStringLiteral("%1 needs --sampler").arg(QLatin1String(option));
        }
    }
    if (!prunerKind.isEmpty()) {
        QCborMap o{{QStringLiteral("kind"), prunerKind}};
        const QString result =
            p.value(QStringLiteral("--pruner-result"), p.value(QStringLiteral("--result")));
        if (!result.isEmpty())
            o.insert(QStringLiteral("result"), result);
        const QString direction =
            p.value(QStringLiteral("--pruner-direction"), p.value(QStringLiteral("--direction")));
        if (!direction.isEmpty())
            o.insert(QStringLiteral("direction"), directionText(direction));
        putIfSet(p, "--pruner-startup-jobs", "startupJobs", &o);
        putIfSet(p, "--warmup-steps", "warmupSteps", &o);
        putIfSet(p, "--min-steps", "minSteps", &o);
        putIfSet(p, "--reduction-factor", "reductionFactor", &o);
        auto decoded = codec::decodePruner(o);
        if (!decoded)
            return describe(decoded.error(), samplerKind, prunerKind);
        out.pruner = decoded.value();
    } else {
        for (const char *option : {"--pruner-result", "--pruner-direction", "--pruner-startup-jobs",
                                   "--warmup-steps", "--min-steps", "--reduction-factor"}) {
            if (set(option))
                return QStringLiteral("%1 needs --pruner").arg(QLatin1String(option));
        }
    }
    if (set("--lease")) {
        QCborMap o{{QStringLiteral("seconds"), numberArgument(p.value(QStringLiteral("--lease")))}};
        putIfSet(p, "--lease-retries", "retries", &o);
        auto decoded = codec::decodeLease(o);
        if (!decoded)
            return describe(decoded.error(), samplerKind, prunerKind);
        out.lease = decoded.value();
    } else if (set("--lease-retries")) {
        return QStringLiteral("--lease-retries needs --lease");
    }
    if (auto e2 = codec::checkPolicies(out))
        return describe(*e2, samplerKind, prunerKind);
    *e = out;
    return {};
}

} // namespace schedy::cli
