// word_count — a C++ program for kvmfilter: POST text, get the ten most frequent words as JSON lines
// ("word count"), most frequent first. Containers, strings, algorithms and exceptions work as in any C++ program;
// the handler must end with a response (kvm_respond never returns, so objects still alive are not destroyed: keep
// what the answer needs in a buffer that outlives it). Without KVM_NAME it reads stdin and writes stdout.
//
// Build: g++ -std=c++17 -O2 -static -Isrc-native/sdk -o word_count src-native/sdk/examples/word_count.cpp
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "kvm_api.h"

static std::string top_words(const char *text, size_t len, size_t keep)
{
    if (len == 0)
        throw std::invalid_argument("an empty body has no words");
    std::map<std::string, size_t> counts;
    std::string word;
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = i < len ? static_cast<unsigned char>(text[i]) : ' ';
        if (std::isalnum(c)) {
            word += static_cast<char>(std::tolower(c));
        } else if (!word.empty()) {
            counts[word]++;
            word.clear();
        }
    }
    std::vector<std::pair<std::string, size_t>> sorted(counts.begin(), counts.end());
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto &a, const auto &b) { return a.second > b.second; });
    std::string out;
    for (size_t i = 0; i < sorted.size() && i < keep; i++)
        out += sorted[i].first + " " + std::to_string(sorted[i].second) + "\n";
    return out;
}

static char answer[4096]; // outlives the handler's objects: kvm_respond does not return

static void on_post(const char *, const char *, const char *, const uint8_t *data, size_t len)
{
    int status = 200;
    try {
        std::string words = top_words(reinterpret_cast<const char *>(data), len, 10);
        snprintf(answer, sizeof answer, "%s", words.c_str());
    } catch (const std::exception &e) {
        status = 400;
        snprintf(answer, sizeof answer, "%s", e.what());
    }
    kvm_respond_str(status, "text/plain", answer);
}

int main()
{
    if (!kvm_is_sandboxed()) {
        std::string text{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
        try {
            std::cout << top_words(text.data(), text.size(), 10);
        } catch (const std::exception &e) {
            std::cerr << "word_count: " << e.what() << "\n";
            return 1;
        }
        return 0;
    }
    kvm_set_post_handler(on_post);
    wait_for_requests();
    return 0;
}
