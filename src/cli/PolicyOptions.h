#pragma once

#include "ArgParser.h"
#include "Types.h"

#include <QList>
#include <QString>

// The options of `schedy add` for docs/protocol.md section 8: how a random search
// draws (--sampler), early stopping (--pruner) and lost workers (--lease).
namespace schedy::cli {

QList<OptionSpec> policyOptions();
// The usage text of those options.
QString policyUsage();
// Sets e->sampler, e->pruner and e->lease from the options (e->scheduler must be
// set). Checked by the codec, as the server checks them; returns a message for
// the user naming the option, or an empty string.
QString applyPolicyOptions(const ArgParser &parser, Experiment *e);

} // namespace schedy::cli
