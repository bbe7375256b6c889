// cxx — a C++ program: exceptions, std::string, std::vector, a static constructor; with arg "threads",
// std::thread, std::mutex, std::condition_variable and std::async.
#define ABI_IMPLEMENTATION
extern "C" {
#include "abi.h"
}
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <string>
#include <vector>

static std::vector<std::string> greetings{"hello", "from", "c++"};

/* Four threads take numbered tickets in turn through a condition variable; std::async adds them up. */
static std::string with_threads()
{
    std::mutex m;
    std::condition_variable next;
    int turn = 0;
    std::vector<int> order;
    std::vector<std::thread> threads;
    for (int id = 0; id < 4; id++)
        threads.emplace_back([&, id] {
            for (int round = 0; round < 3; round++) {
                std::unique_lock<std::mutex> lock(m);
                next.wait(lock, [&] { return turn % 4 == id; });
                order.push_back(id);
                turn++;
                next.notify_all();
            }
        });
    for (auto &t : threads)
        t.join();
    auto total = std::async(std::launch::async, [&] {
        int sum = 0;
        for (int id : order)
            sum += id;
        return sum;
    });
    std::string answer = "order";
    for (int id : order)
        answer += " " + std::to_string(id);
    return answer + " sum " + std::to_string(total.get());
}

static void on_get(const char *url, const char *arg)
{
    (void)url;
    if (std::string(arg) == "threads") {
        std::string answer = with_threads();
        respond(200, "text/plain", answer.data(), answer.size());
    }
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
