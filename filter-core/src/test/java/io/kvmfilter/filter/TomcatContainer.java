package io.kvmfilter.filter;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.Wrapper;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.servlets.DefaultServlet;
import org.apache.catalina.startup.Tomcat;
import org.apache.catalina.util.ServerInfo;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;

/**
 * Embedded Tomcat (11 or 10.1, whichever tomcat-embed-core is on the class path). Filters are mapped for REQUEST
 * and ASYNC, async supported everywhere.
 */
final class TomcatContainer implements ServletContainer {

    private Tomcat tomcat;
    private Connector connector;
    private Path baseDir;

    @Override
    public void start(Deployment deployment) throws Exception {
        baseDir = Files.createTempDirectory("kvmfilter-tomcat");
        tomcat = new Tomcat();
        tomcat.setBaseDir(baseDir.toString());
        connector = new Connector();
        connector.setProperty("address", "127.0.0.1");
        connector.setPort(0);
        if (deployment.maxThreads > 0) {
            connector.setProperty("maxThreads", String.valueOf(deployment.maxThreads));
            connector.setProperty("minSpareThreads", "1");
        }
        tomcat.getService().addConnector(connector);
        tomcat.setConnector(connector);
        Path docBase = deployment.staticFiles != null ? deployment.staticFiles : baseDir;
        Context context = tomcat.addContext("", docBase.toAbsolutePath().toString());
        deployment.mimeTypes.forEach(context::addMimeMapping);
        // Tomcat keeps file contents for 5 s by default; the tests that change files need what is on disk.
        org.apache.catalina.webresources.StandardRoot resources = new org.apache.catalina.webresources.StandardRoot(
                context);
        resources.setCachingAllowed(false);
        context.setResources(resources);
        deployment.contextParams.forEach(context::addParameter);
        for (Deployment.FilterSpec spec : deployment.filters) {
            FilterDef def = new FilterDef();
            def.setFilterName(spec.name());
            def.setFilter(spec.filter());
            def.setFilterClass(spec.filter().getClass().getName());
            def.setAsyncSupported("true");
            spec.initParams().forEach(def::addInitParameter);
            context.addFilterDef(def);
            FilterMap map = new FilterMap();
            map.setFilterName(spec.name());
            map.addURLPattern(spec.pattern());
            map.setDispatcher("REQUEST");
            if (deployment.filtersOnAsyncDispatch) {
                map.setDispatcher("ASYNC");
            }
            context.addFilterMap(map);
        }
        for (Deployment.ServletSpec spec : deployment.servlets) {
            Wrapper wrapper = Tomcat.addServlet(context, spec.name(), spec.servlet());
            wrapper.setAsyncSupported(true);
            spec.initParams().forEach(wrapper::addInitParameter);
            context.addServletMapping(spec.pattern(), spec.name());
        }
        if (deployment.staticFiles != null) {
            Wrapper wrapper = Tomcat.addServlet(context, "default", new DefaultServlet());
            wrapper.setAsyncSupported(true);
            context.addServletMapping("/", "default");
        }
        tomcat.start();
        if (context.getState() != LifecycleState.STARTED) {
            throw new IllegalStateException("web application failed to start on " + version()
                    + " (state " + context.getState() + "): see the log above");
        }
    }

    @Override
    public int port() {
        return connector.getLocalPort();
    }

    @Override
    public String version() {
        return ServerInfo.getServerInfo();
    }

    @Override
    public void close() throws Exception {
        if (tomcat != null) {
            tomcat.stop();
            tomcat.destroy();
        }
        if (baseDir != null) {
            try (var paths = Files.walk(baseDir)) {
                paths.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }
}
