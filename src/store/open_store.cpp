#include "store/store.hpp"
// Placeholder until the SQLite backend lands (store helper replaces this file).
namespace tillgate::store {}
