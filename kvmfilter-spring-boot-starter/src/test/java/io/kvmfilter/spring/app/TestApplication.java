package io.kvmfilter.spring.app;

import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A plain Spring Boot web application: Spring MVC serving static/ from the class path, Actuator, and the kvmfilter
 * starter found by auto-configuration like any other. Nothing in it mentions kvmfilter.
 */
@SpringBootApplication
public class TestApplication {
}
