/**
 * @file simclr.h
 * @brief libsimclr: SimCLR contrastive learning for C programs.
 *
 * Include this one header to get the whole public API. Link with
 * `pkg-config --libs simclr`.
 */
#ifndef SIMCLR_SIMCLR_H
#define SIMCLR_SIMCLR_H

#include "simclr/export.h"
#include "simclr/version.h"
#include "simclr/status.h"
#include "simclr/log.h"
#include "simclr/alloc.h"
#include "simclr/threads.h"
#include "simclr/image.h"
#include "simclr/augment.h"
#include "simclr/dataset.h"
#include "simclr/encoder.h"
#include "simclr/projector.h"
#include "simclr/loss.h"
#include "simclr/optim.h"
#include "simclr/eval.h"

#endif /* SIMCLR_SIMCLR_H */
