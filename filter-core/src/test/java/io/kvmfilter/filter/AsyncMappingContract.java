package io.kvmfilter.filter;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.restassured.config.HttpClientConfig;
import io.restassured.config.RestAssuredConfig;
import io.restassured.response.Response;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A filter mapped for REQUEST only (the ASYNC dispatcher type forgotten): asynchronous requests must still be
 * answered, not hang. complete() needs no mapping; after an async dispatch the filter finishes the response when
 * the container reports completion, and logs how to fix the mapping.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class AsyncMappingContract {

    private ServletContainer container;

    abstract ServletContainer newContainer();

    /**
     * Whether the container still lets the filter write after the dispatched request (Tomcat: its completion
     * listener runs before the response is closed). Jetty closes the response first: the body is lost, and the
     * filter's warning names the fix.
     */
    abstract boolean recoversMissingAsyncMapping();

    @BeforeAll
    void start() throws Exception {
        KvmFilter filter = new KvmFilter(KvmFilterConfig.builder().rules("text/plain -> upper").minBodySize(4).build(),
                new UppercaseTransform());
        Deployment deployment = new Deployment();
        deployment.filtersOnAsyncDispatch = false;
        deployment.filter("kvm", filter, "/*", Map.of());
        TestServlets.deploy(deployment);
        container = newContainer();
        container.start(deployment);
    }

    @AfterAll
    void stop() throws Exception {
        container.close();
    }

    @Test
    void asyncDispatchIsAnsweredWithoutTheAsyncMapping() {
        RestAssuredConfig timeouts = RestAssuredConfig.config().httpClient(HttpClientConfig.httpClientConfig()
                .setParam("http.socket.timeout", 10_000).setParam("http.connection.timeout", 10_000));
        Response response = given().config(timeouts).port(container.port()).get("/async-dispatch");
        assertThat(response.statusCode()).isEqualTo(200); // answered, not hanging
        if (recoversMissingAsyncMapping()) {
            assertThat(response.asString()).isEqualTo(FilterMechanicsContract.UPPER);
        }
    }

    @Test
    void asyncCompleteStillWorksWithoutTheAsyncMapping() {
        Response response = given().port(container.port()).get("/async");
        assertThat(response.asString()).isEqualTo(FilterMechanicsContract.UPPER);
    }
}
