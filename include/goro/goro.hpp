// goro/goro.hpp — the whole core API of goro: Go's concurrency runtime in C++20.
#pragma once

#include <goro/chan.hpp>
#include <goro/context.hpp>
#include <goro/debug.hpp>
#include <goro/errc.hpp>
#include <goro/errgroup.hpp>
#include <goro/introspect.hpp>
#include <goro/leak.hpp>
#include <goro/metrics.hpp>
#include <goro/net.hpp>
#include <goro/panic.hpp>
#include <goro/runtime.hpp>
#include <goro/select.hpp>
#include <goro/signal.hpp>
#include <goro/sync.hpp>
#include <goro/time.hpp>
#include <goro/trace.hpp>
#include <goro/wait_group.hpp>
