package io.kvmfilter.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** What a listener (the metrics) hears of the stores of the class loader. */
class ResultStoreListenerTest {

    @Test
    void hearsOfOpenStoresAtOnceThenOfEachOpeningAndOneClose() {
        List<String> heard = new CopyOnWriteArrayList<>();
        ResultStoreListener listener = new ResultStoreListener() {
            @Override
            public void opened(ResultStore store) {
                heard.add("opened " + store.name());
            }

            @Override
            public void closed(ResultStore store) {
                heard.add("closed " + store.name());
            }
        };
        try (ResultStore first = ResultStore.builder().name("listener-first").build()) {
            ResultStore.addListener(listener);
            try {
                ResultStore second = ResultStore.builder().build();
                assertThat(ResultStore.openStores()).contains(first, second);
                second.close();
                second.close();
                assertThat(ResultStore.openStores()).contains(first).doesNotContain(second);
                assertThat(heard).containsSubsequence("opened listener-first", "opened " + second.name(),
                                "closed " + second.name());
                assertThat(heard).as("a second close says nothing").filteredOn(("closed " + second.name())::equals)
                        .hasSize(1);
                assertThat(second.name()).as("an unnamed store gets a name of its own").startsWith("result-store-");
            } finally {
                assertThat(ResultStore.removeListener(listener)).isTrue();
            }
        }
        assertThat(heard).as("removed: hears nothing more").doesNotContain("closed listener-first");
    }
}
