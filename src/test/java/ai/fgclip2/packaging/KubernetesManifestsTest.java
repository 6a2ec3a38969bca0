package ai.fgclip2.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Parses every manifest under k8s/ into fabric8's typed Kubernetes model and checks the rendered base and
 * overlays against the application's own configuration (application.yaml, the typed properties' metadata) and
 * the Dockerfile, so that a change on one side that is not mirrored on the other fails the build.
 */
class KubernetesManifestsTest {
    private static final Path K8S = Path.of("k8s");
    private static final String SERVER = "server";
    private static final String EXPORT = "export-model";
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
    private static final JsonMapper JSON = new JsonMapper();

    private static ApplicationConfig app;
    private static DockerfileFacts image;

    @BeforeAll
    static void loadConfiguration() throws Exception {
        app = ApplicationConfig.load();
        image = DockerfileFacts.load();
    }

    /** A rendered kustomization, typed. */
    private record Rendered(String variant, List<HasMetadata> objects) {
        <T extends HasMetadata> T one(Class<T> type) {
            List<T> found = objects.stream().filter(type::isInstance).map(type::cast).toList();
            assertThat(found).as("%s: number of %s", variant, type.getSimpleName()).hasSize(1);
            return found.get(0);
        }

        PodSpec pod() {
            return one(Deployment.class).getSpec().getTemplate().getSpec();
        }

        Container container(String name) {
            return Stream.concat(pod().getInitContainers().stream(), pod().getContainers().stream())
                    .filter(c -> c.getName().equals(name)).findFirst()
                    .orElseThrow(() -> new AssertionError(variant + ": no container " + name));
        }

        Map<String, String> config() {
            return one(ConfigMap.class).getData();
        }
    }

    private static Rendered render(String variant) {
        List<HasMetadata> typed = new ArrayList<>();
        for (ObjectNode object : KustomizeRender.render(K8S.resolve(variant))) {
            typed.add(SERIALIZATION.unmarshal(JSON.writeValueAsString(object), HasMetadata.class));
        }
        return new Rendered(variant, typed);
    }

    @Test
    void everyManifestParsesIntoTheTypedModelAndEveryReferenceExists() throws Exception {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(K8S)) {
            files = walk.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
        }
        assertThat(files).hasSizeGreaterThanOrEqualTo(10);
        for (Path file : files) {
            if (file.getFileName().toString().equals(KustomizeRender.FILE_NAME)) {
                assertThat(KustomizeRender.references(file.getParent())).as("references of %s", file)
                        .allSatisfy(referenced -> assertThat(referenced).exists());
                continue;
            }
            for (ObjectNode document : KustomizeRender.readObjects(file)) {
                HasMetadata object = SERIALIZATION.unmarshal(JSON.writeValueAsString(document), HasMetadata.class);
                assertThat(object.getMetadata().getName()).as("name in %s", file).isNotBlank();
                if (object instanceof GenericKubernetesResource) {
                    // only custom resources have no typed class
                    assertThat(object.getKind()).as("untyped kind in %s", file).isEqualTo("ServiceMonitor");
                }
            }
        }
    }

    @Test
    void applicationExposesWhatTheManifestsProbeAndScrape() {
        assertThat(app.probesEnabled()).as("management.endpoint.health.probes.enabled").isTrue();
        assertThat(app.exposedEndpoints()).contains("health", "prometheus");
        assertThat(app.required("server.shutdown")).isEqualTo("graceful");
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/cpu", "overlays/gpu"})
    void serverContainerMatchesTheApplication(String variant) {
        Rendered rendered = render(variant);
        // a patch naming a container that does not exist would add a half-defined one
        assertThat(rendered.pod().getContainers()).extracting(Container::getName).containsExactly(SERVER);
        Container server = rendered.container(SERVER);

        ContainerPort http = server.getPorts().stream().filter(p -> "http".equals(p.getName())).findFirst()
                .orElseThrow(() -> new AssertionError("no port named http"));
        assertThat(http.getContainerPort()).as("containerPort = server.port").isEqualTo(app.serverPort());

        assertProbe(server, server.getStartupProbe(), app.probePath("liveness"));
        assertProbe(server, server.getLivenessProbe(), app.probePath("liveness"));
        assertProbe(server, server.getReadinessProbe(), app.probePath("readiness"));

        assertThat(rendered.one(Deployment.class).getSpec().getTemplate().getMetadata().getAnnotations())
                .containsEntry("prometheus.io/port", String.valueOf(app.serverPort()))
                .containsEntry("prometheus.io/path", app.actuatorPath("prometheus"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/cpu", "overlays/gpu"})
    void environmentNamesAreApplicationPropertiesOrImageVariables(String variant) {
        Rendered rendered = render(variant);
        Map<String, String> config = rendered.config();
        for (String key : config.keySet()) {
            assertThat(app.bindsEnvironmentVariable(key) || image.env().containsKey(key))
                    .as("%s: ConfigMap key %s is neither an application property nor an image variable", variant, key)
                    .isTrue();
        }
        for (String name : image.env().keySet()) {
            if (name.startsWith("FGCLIP2_")) {
                assertThat(app.bindsEnvironmentVariable(name)).as("Dockerfile ENV %s binds no property", name).isTrue();
            }
        }
        Container server = rendered.container(SERVER);
        assertThat(server.getEnvFrom()).extracting(EnvFromSource::getConfigMapRef).extracting("name")
                .containsExactly(rendered.one(ConfigMap.class).getMetadata().getName());
        for (EnvVar env : server.getEnv()) {
            assertThat(app.bindsEnvironmentVariable(env.getName()) || image.env().containsKey(env.getName()))
                    .as("%s: server env %s", variant, env.getName()).isTrue();
        }
        // the export script's own variables must be used by it
        Container export = rendered.container(EXPORT);
        String script = String.join("\n", export.getArgs());
        for (EnvVar env : export.getEnv()) {
            assertThat(script).as("%s: %s is unused by the export script", variant, env.getName())
                    .contains("$" + env.getName());
        }
        assertThat(config).containsKeys("FGCLIP2_MODEL_DIR", "FGCLIP2_CACHE_DIR", "FGCLIP2_ENGINE_PROVIDER");
        assertThat(config.get("FGCLIP2_ENGINE_PROVIDER")).isIn("auto", "cuda", "cpu");
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/cpu", "overlays/gpu"})
    void containersRunNonRootOnAReadOnlyRootWithTheImageVolumesMounted(String variant) {
        Rendered rendered = render(variant);
        PodSpec pod = rendered.pod();
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSecurityContext().getRunAsUser()).as("runAsUser = Dockerfile USER").isEqualTo(image.userId());
        Map<String, String> config = rendered.config();

        for (Container container : List.of(rendered.container(SERVER), rendered.container(EXPORT))) {
            SecurityContext security = container.getSecurityContext();
            assertThat(security.getReadOnlyRootFilesystem()).as("%s readOnlyRootFilesystem", container.getName()).isTrue();
            assertThat(security.getAllowPrivilegeEscalation()).as("%s allowPrivilegeEscalation", container.getName()).isFalse();
            assertThat(security.getCapabilities().getDrop()).as("%s drops", container.getName()).containsExactly("ALL");
            assertThat(container.getImage()).as("%s image", container.getName())
                    .isEqualTo(rendered.container(SERVER).getImage());
            // Docker would give each VOLUME of the image a writable volume; Kubernetes does not
            for (String volumePath : image.volumes()) {
                assertThat(writableMount(container, volumePath)).as("%s: writable mount for the image's VOLUME %s",
                        container.getName(), volumePath).isPresent();
            }
            assertThat(writableMount(container, config.get("FGCLIP2_CACHE_DIR")))
                    .as("%s: FGCLIP2_CACHE_DIR writable", container.getName()).isPresent();
            assertThat(container.getResources().getRequests()).as("%s requests", container.getName())
                    .containsKeys("cpu", "memory");
            assertThat(container.getResources().getLimits()).as("%s limits", container.getName()).containsKey("memory");
        }
        for (VolumeMount mount : allMounts(pod)) {
            assertThat(pod.getVolumes()).extracting(Volume::getName).as("volume of mount %s", mount.getMountPath())
                    .contains(mount.getName());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/cpu", "overlays/gpu"})
    void exportInitContainerFillsTheModelFolderTheServerReads(String variant) {
        Rendered rendered = render(variant);
        Container export = rendered.container(EXPORT);
        Container server = rendered.container(SERVER);
        assertThat(rendered.pod().getInitContainers()).extracting(Container::getName).containsExactly(EXPORT);
        assertThat(String.join(" ", export.getArgs())).contains("fgclip2 export --checkpoint /checkpoint");
        assertThat(export.getEnvFrom()).isEqualTo(server.getEnvFrom());

        VolumeMount checkpoint = mountAt(export, "/checkpoint").orElseThrow();
        assertThat(checkpoint.getReadOnly()).as("checkpoint mounted read-only").isTrue();

        String modelDir = rendered.config().get("FGCLIP2_MODEL_DIR");
        VolumeMount exportModels = writableMount(export, modelDir)
                .orElseThrow(() -> new AssertionError("export-model cannot write " + modelDir));
        VolumeMount serverModels = mountAt(server, exportModels.getMountPath())
                .orElseThrow(() -> new AssertionError("server does not mount " + exportModels.getMountPath()));
        assertThat(serverModels.getName()).isEqualTo(exportModels.getName());
        assertThat(serverModels.getReadOnly()).as("server reads the model read-only").isTrue();
        assertThat(modelDir).as("the export renames its scratch folder into FGCLIP2_MODEL_DIR, a child of the mount")
                .isNotEqualTo(exportModels.getMountPath());
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/cpu", "overlays/gpu"})
    void terminationGraceOutlastsTheDrain(String variant) {
        Rendered rendered = render(variant);
        Container server = rendered.container(SERVER);
        Duration preStop = Optional.ofNullable(server.getLifecycle()).map(l -> l.getPreStop())
                .map(handler -> {
                    List<String> command = handler.getExec().getCommand();
                    assertThat(command.get(0)).isEqualTo("sleep");
                    return Duration.ofSeconds(Long.parseLong(command.get(1)));
                }).orElse(Duration.ZERO);
        Duration needed = preStop.plus(app.shutdownTimeout());
        assertThat(Duration.ofSeconds(rendered.pod().getTerminationGracePeriodSeconds()))
                .as("terminationGracePeriodSeconds > preStop %s + drain %s", preStop, app.shutdownTimeout())
                .isGreaterThan(needed);
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/cpu", "overlays/gpu"})
    void serviceAutoscalerAndBudgetSelectTheDeployment(String variant) {
        Rendered rendered = render(variant);
        Deployment deployment = rendered.one(Deployment.class);
        Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
        assertThat(podLabels).containsAllEntriesOf(deployment.getSpec().getSelector().getMatchLabels());

        Service service = rendered.one(Service.class);
        assertThat(podLabels).containsAllEntriesOf(service.getSpec().getSelector());
        IntOrString target = service.getSpec().getPorts().get(0).getTargetPort();
        assertThat(target.getStrVal()).as("Service targets the named container port").isEqualTo("http");

        HorizontalPodAutoscaler hpa = rendered.one(HorizontalPodAutoscaler.class);
        assertThat(hpa.getSpec().getScaleTargetRef().getKind()).isEqualTo("Deployment");
        assertThat(hpa.getSpec().getScaleTargetRef().getName()).isEqualTo(deployment.getMetadata().getName());
        assertThat(hpa.getSpec().getMinReplicas()).isPositive().isLessThanOrEqualTo(hpa.getSpec().getMaxReplicas());

        PodDisruptionBudget pdb = rendered.one(PodDisruptionBudget.class);
        assertThat(podLabels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
        assertThat(pdb.getSpec().getMinAvailable()).as("minAvailable would block drains at one replica").isNull();
    }

    @Test
    void onlyTheGpuOverlayRequestsAGpuAndTheCudaProvider() {
        Rendered gpu = render("overlays/gpu");
        assertThat(gpu.container(SERVER).getResources().getLimits()).containsEntry("nvidia.com/gpu", new Quantity("1"));
        assertThat(gpu.container(EXPORT).getResources().getLimits()).doesNotContainKey("nvidia.com/gpu");
        assertThat(gpu.config()).containsEntry("FGCLIP2_ENGINE_PROVIDER", "cuda");
        assertThat(gpu.container(SERVER).getImage()).endsWith(":gpu");

        Rendered cpu = render("overlays/cpu");
        assertThat(cpu.container(SERVER).getResources().getLimits()).doesNotContainKey("nvidia.com/gpu");
        assertThat(cpu.config()).containsEntry("FGCLIP2_ENGINE_PROVIDER", "cpu");
        assertThat(cpu.container(SERVER).getImage()).endsWith(":cpu");
    }

    @Test
    void serviceMonitorComponentScrapesThePrometheusEndpoint() {
        Rendered withMonitor = render("components/servicemonitor");
        GenericKubernetesResource monitor = withMonitor.one(GenericKubernetesResource.class);
        assertThat(monitor.getKind()).isEqualTo("ServiceMonitor");
        Service service = render("base").one(Service.class);

        Map<String, Object> spec = monitor.get("spec");
        @SuppressWarnings("unchecked")
        Map<String, String> selected = (Map<String, String>) ((Map<String, Object>) spec.get("selector")).get("matchLabels");
        assertThat(service.getMetadata().getLabels()).containsAllEntriesOf(selected);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> endpoints = (List<Map<String, Object>>) spec.get("endpoints");
        assertThat(endpoints).hasSize(1);
        assertThat(endpoints.get(0)).containsEntry("port", service.getSpec().getPorts().get(0).getName())
                .containsEntry("path", app.actuatorPath("prometheus"));
    }

    private static void assertProbe(Container container, Probe probe, String expectedPath) {
        assertThat(probe).isNotNull();
        HTTPGetAction get = probe.getHttpGet();
        assertThat(get.getPath()).isEqualTo(expectedPath);
        IntOrString port = get.getPort();
        int resolved = port.getIntVal() != null ? port.getIntVal() : container.getPorts().stream()
                .filter(p -> port.getStrVal().equals(p.getName())).findFirst()
                .orElseThrow(() -> new AssertionError("probe port " + port.getStrVal() + " is not a container port"))
                .getContainerPort();
        assertThat(resolved).as("probe port of %s", expectedPath).isEqualTo(app.serverPort());
    }

    private static Optional<VolumeMount> mountAt(Container container, String path) {
        return container.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(path)).findFirst();
    }

    /** The writable mount that holds {@code path} (the path itself or a folder below the mount). */
    private static Optional<VolumeMount> writableMount(Container container, String path) {
        return container.getVolumeMounts().stream()
                .filter(m -> !Boolean.TRUE.equals(m.getReadOnly()))
                .filter(m -> Path.of(path).startsWith(Path.of(m.getMountPath())))
                .findFirst();
    }

    private static List<VolumeMount> allMounts(PodSpec pod) {
        Map<String, VolumeMount> byPath = new LinkedHashMap<>();
        Stream.concat(pod.getInitContainers().stream(), pod.getContainers().stream())
                .flatMap(c -> c.getVolumeMounts().stream()).forEach(m -> byPath.put(m.getName() + m.getMountPath(), m));
        return List.copyOf(byPath.values());
    }
}
