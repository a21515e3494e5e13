// GCC 13+ emits calls to std::ios_base_library_init() (GLIBCXX_3.4.32) from every TU that includes
// <iostream>; GCC 12's libstdc++ (Debian 12, Ubuntu 22.04) lacks it. Its whole job is to make sure the
// standard streams are initialised, which a static ios_base::Init does.
#include <ios>
namespace std {
void ios_base_library_init() { static ios_base::Init init; }
}
