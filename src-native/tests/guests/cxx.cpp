// cxx — a C++ program: exceptions, std::string, std::vector, a static constructor.
#define ABI_IMPLEMENTATION
extern "C" {
#include "abi.h"
}
#include <stdexcept>
#include <string>
#include <vector>

static std::vector<std::string> greetings{"hello", "from", "c++"};

static void on_get(const char *url, const char *arg)
{
    (void)url;
    std::string answer;
    try {
        if (std::string(arg) == "throw")
            throw std::runtime_error("thrown and caught");
        for (const auto &g : greetings)
            answer += g + " ";
    } catch (const std::exception &e) {
        answer = std::string("caught: ") + e.what();
    }
    respond(200, "text/plain", answer.data(), answer.size());
}

int main()
{
    register_func(1, (void *)on_get);
    wait_for_requests();
}
