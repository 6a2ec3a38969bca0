package ai.fgclip2.server;

import ai.fgclip2.server.config.Fgclip2Properties;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.springframework.boot.context.event.ApplicationEnvironmentPreparedEvent;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.web.server.PortInUseException;
import org.springframework.context.ApplicationListener;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * What can be checked in a second runs before the model is loaded (which takes from seconds to minutes): every
 * {@code fgclip2.*} value binds, and the HTTP port is free. Tomcat binds its port only after every bean, the
 * engine included, is ready, so without this a busy port is reported after the model has loaded.
 */
final class StartupChecks implements ApplicationListener<ApplicationEnvironmentPreparedEvent> {

    @Override
    public void onApplicationEvent(ApplicationEnvironmentPreparedEvent event) {
        ConfigurableEnvironment environment = event.getEnvironment();
        Binder.get(environment).bindOrCreate("fgclip2", Fgclip2Properties.class);
        int port = environment.getProperty("server.port", Integer.class, 8080);
        if (port > 0) {
            checkPortFree(environment.getProperty("server.address", InetAddress.class), port);
        }
    }

    private static void checkPortFree(InetAddress address, int port) {
        try (ServerSocket probe = new ServerSocket()) {
            // as Tomcat binds: reuse-address, so a port in TIME_WAIT after a restart is not mistaken for busy
            probe.setReuseAddress(true);
            probe.bind(address == null ? new InetSocketAddress(port) : new InetSocketAddress(address, port));
        } catch (IOException e) {
            throw new PortInUseException(port, e);
        }
    }
}
