// Status and Result<T>: what serving's cold paths (create, open, flip, retire) return; the
// project's one vocabulary (base/status.h), shared with memlog without either using the other.
#pragma once

#include "base/status.h"

namespace kappa::serving {

using base::Result;
using base::Status;
using base::StatusCode;

}  // namespace kappa::serving
