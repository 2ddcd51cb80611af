//! kustomize's built-in name-reference table: for each kind that can be renamed, the
//! fields of other kinds that refer to it by name. Rows are `(referrer selector, path)`
//! with selector `Kind[:group[:version]]`.

pub struct NameReference {
    pub target: &'static str,
    pub referrers: &'static [(&'static str, &'static str)],
}

pub const NAME_REFERENCES: &[NameReference] = &[
    NameReference {
        target: "Deployment",
        referrers: &[("HorizontalPodAutoscaler", "spec/scaleTargetRef/name")],
    },
    NameReference {
        target: "ReplicationController",
        referrers: &[("HorizontalPodAutoscaler", "spec/scaleTargetRef/name")],
    },
    NameReference {
        target: "ReplicaSet",
        referrers: &[("HorizontalPodAutoscaler", "spec/scaleTargetRef/name")],
    },
    NameReference {
        target: "StatefulSet",
        referrers: &[("HorizontalPodAutoscaler", "spec/scaleTargetRef/name")],
    },
    NameReference {
        target: "ConfigMap::v1",
        referrers: &[
            ("Pod::v1", "spec/volumes/configMap/name"),
            (
                "Pod::v1",
                "spec/containers/env/valueFrom/configMapKeyRef/name",
            ),
            (
                "Pod::v1",
                "spec/initContainers/env/valueFrom/configMapKeyRef/name",
            ),
            ("Pod::v1", "spec/containers/envFrom/configMapRef/name"),
            ("Pod::v1", "spec/initContainers/envFrom/configMapRef/name"),
            ("Pod::v1", "spec/volumes/projected/sources/configMap/name"),
            ("PodTemplate", "template/spec/volumes/configMap/name"),
            (
                "PodTemplate",
                "template/spec/containers/env/valueFrom/configMapKeyRef/name",
            ),
            (
                "PodTemplate",
                "template/spec/initContainers/env/valueFrom/configMapKeyRef/name",
            ),
            (
                "PodTemplate",
                "template/spec/containers/envFrom/configMapRef/name",
            ),
            (
                "PodTemplate",
                "template/spec/initContainers/envFrom/configMapRef/name",
            ),
            (
                "PodTemplate",
                "template/spec/volumes/projected/sources/configMap/name",
            ),
            ("Deployment", "spec/template/spec/volumes/configMap/name"),
            (
                "Deployment",
                "spec/template/spec/containers/env/valueFrom/configMapKeyRef/name",
            ),
            (
                "Deployment",
                "spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name",
            ),
            (
                "Deployment",
                "spec/template/spec/containers/envFrom/configMapRef/name",
            ),
            (
                "Deployment",
                "spec/template/spec/initContainers/envFrom/configMapRef/name",
            ),
            (
                "Deployment",
                "spec/template/spec/volumes/projected/sources/configMap/name",
            ),
            ("ReplicaSet", "spec/template/spec/volumes/configMap/name"),
            (
                "ReplicaSet",
                "spec/template/spec/containers/env/valueFrom/configMapKeyRef/name",
            ),
            (
                "ReplicaSet",
                "spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name",
            ),
            (
                "ReplicaSet",
                "spec/template/spec/containers/envFrom/configMapRef/name",
            ),
            (
                "ReplicaSet",
                "spec/template/spec/initContainers/envFrom/configMapRef/name",
            ),
            (
                "ReplicaSet",
                "spec/template/spec/volumes/projected/sources/configMap/name",
            ),
            ("DaemonSet", "spec/template/spec/volumes/configMap/name"),
            (
                "DaemonSet",
                "spec/template/spec/containers/env/valueFrom/configMapKeyRef/name",
            ),
            (
                "DaemonSet",
                "spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name",
            ),
            (
                "DaemonSet",
                "spec/template/spec/containers/envFrom/configMapRef/name",
            ),
            (
                "DaemonSet",
                "spec/template/spec/initContainers/envFrom/configMapRef/name",
            ),
            (
                "DaemonSet",
                "spec/template/spec/volumes/projected/sources/configMap/name",
            ),
            ("StatefulSet", "spec/template/spec/volumes/configMap/name"),
            (
                "StatefulSet",
                "spec/template/spec/containers/env/valueFrom/configMapKeyRef/name",
            ),
            (
                "StatefulSet",
                "spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name",
            ),
            (
                "StatefulSet",
                "spec/template/spec/containers/envFrom/configMapRef/name",
            ),
            (
                "StatefulSet",
                "spec/template/spec/initContainers/envFrom/configMapRef/name",
            ),
            (
                "StatefulSet",
                "spec/template/spec/volumes/projected/sources/configMap/name",
            ),
            ("Job", "spec/template/spec/volumes/configMap/name"),
            (
                "Job",
                "spec/template/spec/containers/env/valueFrom/configMapKeyRef/name",
            ),
            (
                "Job",
                "spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name",
            ),
            (
                "Job",
                "spec/template/spec/containers/envFrom/configMapRef/name",
            ),
            (
                "Job",
                "spec/template/spec/initContainers/envFrom/configMapRef/name",
            ),
            (
                "Job",
                "spec/template/spec/volumes/projected/sources/configMap/name",
            ),
            (
                "CronJob",
                "spec/jobTemplate/spec/template/spec/volumes/configMap/name",
            ),
            (
                "CronJob",
                "spec/jobTemplate/spec/template/spec/volumes/projected/sources/configMap/name",
            ),
            (
                "CronJob",
                "spec/jobTemplate/spec/template/spec/containers/env/valueFrom/configMapKeyRef/name",
            ),
            (
                "CronJob",
                "spec/jobTemplate/spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name",
            ),
            (
                "CronJob",
                "spec/jobTemplate/spec/template/spec/containers/envFrom/configMapRef/name",
            ),
            (
                "CronJob",
                "spec/jobTemplate/spec/template/spec/initContainers/envFrom/configMapRef/name",
            ),
            ("Node", "spec/configSource/configMap"),
            ("Role", "rules/resourceNames"),
            ("ClusterRole", "rules/resourceNames"),
            (
                "Ingress",
                "metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap",
            ),
        ],
    },
    NameReference {
        target: "Secret::v1",
        referrers: &[
            ("Pod::v1", "spec/volumes/secret/secretName"),
            ("Pod::v1", "spec/containers/env/valueFrom/secretKeyRef/name"),
            (
                "Pod::v1",
                "spec/initContainers/env/valueFrom/secretKeyRef/name",
            ),
            ("Pod::v1", "spec/containers/envFrom/secretRef/name"),
            ("Pod::v1", "spec/initContainers/envFrom/secretRef/name"),
            ("Pod::v1", "spec/imagePullSecrets/name"),
            ("Pod::v1", "spec/volumes/projected/sources/secret/name"),
            ("PodTemplate", "template/spec/volumes/secret/secretName"),
            (
                "PodTemplate",
                "template/spec/containers/env/valueFrom/secretKeyRef/name",
            ),
            (
                "PodTemplate",
                "template/spec/initContainers/env/valueFrom/secretKeyRef/name",
            ),
            (
                "PodTemplate",
                "template/spec/containers/envFrom/secretRef/name",
            ),
            (
                "PodTemplate",
                "template/spec/initContainers/envFrom/secretRef/name",
            ),
            ("PodTemplate", "template/spec/imagePullSecrets/name"),
            (
                "PodTemplate",
                "template/spec/volumes/projected/sources/secret/name",
            ),
            ("Deployment", "spec/template/spec/volumes/secret/secretName"),
            (
                "Deployment",
                "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
            ),
            (
                "Deployment",
                "spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name",
            ),
            (
                "Deployment",
                "spec/template/spec/containers/envFrom/secretRef/name",
            ),
            (
                "Deployment",
                "spec/template/spec/initContainers/envFrom/secretRef/name",
            ),
            ("Deployment", "spec/template/spec/imagePullSecrets/name"),
            (
                "Deployment",
                "spec/template/spec/volumes/projected/sources/secret/name",
            ),
            ("ReplicaSet", "spec/template/spec/volumes/secret/secretName"),
            (
                "ReplicaSet",
                "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
            ),
            (
                "ReplicaSet",
                "spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name",
            ),
            (
                "ReplicaSet",
                "spec/template/spec/containers/envFrom/secretRef/name",
            ),
            (
                "ReplicaSet",
                "spec/template/spec/initContainers/envFrom/secretRef/name",
            ),
            ("ReplicaSet", "spec/template/spec/imagePullSecrets/name"),
            (
                "ReplicaSet",
                "spec/template/spec/volumes/projected/sources/secret/name",
            ),
            ("DaemonSet", "spec/template/spec/volumes/secret/secretName"),
            (
                "DaemonSet",
                "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
            ),
            (
                "DaemonSet",
                "spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name",
            ),
            (
                "DaemonSet",
                "spec/template/spec/containers/envFrom/secretRef/name",
            ),
            (
                "DaemonSet",
                "spec/template/spec/initContainers/envFrom/secretRef/name",
            ),
            ("DaemonSet", "spec/template/spec/imagePullSecrets/name"),
            (
                "DaemonSet",
                "spec/template/spec/volumes/projected/sources/secret/name",
            ),
            (
                "StatefulSet",
                "spec/template/spec/volumes/secret/secretName",
            ),
            (
                "StatefulSet",
                "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
            ),
            (
                "StatefulSet",
                "spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name",
            ),
            (
                "StatefulSet",
                "spec/template/spec/containers/envFrom/secretRef/name",
            ),
            (
                "StatefulSet",
                "spec/template/spec/initContainers/envFrom/secretRef/name",
            ),
            ("StatefulSet", "spec/template/spec/imagePullSecrets/name"),
            (
                "StatefulSet",
                "spec/template/spec/volumes/projected/sources/secret/name",
            ),
            ("Job", "spec/template/spec/volumes/secret/secretName"),
            (
                "Job",
                "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
            ),
            (
                "Job",
                "spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name",
            ),
            (
                "Job",
                "spec/template/spec/containers/envFrom/secretRef/name",
            ),
            (
                "Job",
                "spec/template/spec/initContainers/envFrom/secretRef/name",
            ),
            ("Job", "spec/template/spec/imagePullSecrets/name"),
            (
                "Job",
                "spec/template/spec/volumes/projected/sources/secret/name",
            ),
            (
                "CronJob",
                "spec/jobTemplate/spec/template/spec/volumes/secret/secretName",
            ),
            (
                "CronJob",
                "spec/jobTemplate/spec/template/spec/volumes/projected/sources/secret/name",
            ),
            (
                "CronJob",
                "spec/jobTemplate/spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
            ),
            (
                "CronJob",
                "spec/jobTemplate/spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name",
            ),
            (
                "CronJob",
                "spec/jobTemplate/spec/template/spec/containers/envFrom/secretRef/name",
            ),
            (
                "CronJob",
                "spec/jobTemplate/spec/template/spec/initContainers/envFrom/secretRef/name",
            ),
            (
                "CronJob",
                "spec/jobTemplate/spec/template/spec/imagePullSecrets/name",
            ),
            ("Ingress", "spec/tls/secretName"),
            (
                "Ingress",
                "metadata/annotations/ingress.kubernetes.io\\/auth-secret",
            ),
            (
                "Ingress",
                "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret",
            ),
            (
                "Ingress",
                "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret",
            ),
            ("Ingress", "spec/tls/secretName"),
            ("ServiceAccount", "imagePullSecrets/name"),
            ("StorageClass", "parameters/secretName"),
            ("StorageClass", "parameters/adminSecretName"),
            ("StorageClass", "parameters/userSecretName"),
            ("StorageClass", "parameters/secretRef"),
            ("Role", "rules/resourceNames"),
            ("ClusterRole", "rules/resourceNames"),
            (
                "Service:serving.knative.dev:v1",
                "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
            ),
            ("PersistentVolume", "spec/azureFile/secretName"),
        ],
    },
    NameReference {
        target: "Service::v1",
        referrers: &[
            ("StatefulSet:apps", "spec/serviceName"),
            ("Ingress", "spec/rules/http/paths/backend/serviceName"),
            ("Ingress", "spec/backend/serviceName"),
            ("Ingress", "spec/rules/http/paths/backend/service/name"),
            ("Ingress", "spec/defaultBackend/service/name"),
            ("APIService:apiregistration.k8s.io", "spec/service/name"),
            (
                "ValidatingWebhookConfiguration:admissionregistration.k8s.io",
                "webhooks/clientConfig/service",
            ),
            (
                "MutatingWebhookConfiguration:admissionregistration.k8s.io",
                "webhooks/clientConfig/service",
            ),
        ],
    },
    NameReference {
        target: "Role:rbac.authorization.k8s.io",
        referrers: &[("RoleBinding:rbac.authorization.k8s.io", "roleRef/name")],
    },
    NameReference {
        target: "ClusterRole:rbac.authorization.k8s.io",
        referrers: &[
            ("RoleBinding:rbac.authorization.k8s.io", "roleRef/name"),
            (
                "ClusterRoleBinding:rbac.authorization.k8s.io",
                "roleRef/name",
            ),
        ],
    },
    NameReference {
        target: "ServiceAccount::v1",
        referrers: &[
            ("RoleBinding:rbac.authorization.k8s.io", "subjects"),
            ("ClusterRoleBinding:rbac.authorization.k8s.io", "subjects"),
            ("Pod", "spec/serviceAccountName"),
            ("StatefulSet", "spec/template/spec/serviceAccountName"),
            ("Deployment", "spec/template/spec/serviceAccountName"),
            (
                "ReplicationController",
                "spec/template/spec/serviceAccountName",
            ),
            (
                "CronJob",
                "spec/jobTemplate/spec/template/spec/serviceAccountName",
            ),
            ("Job", "spec/template/spec/serviceAccountName"),
            ("DaemonSet", "spec/template/spec/serviceAccountName"),
        ],
    },
    NameReference {
        target: "PersistentVolumeClaim::v1",
        referrers: &[
            ("Pod", "spec/volumes/persistentVolumeClaim/claimName"),
            (
                "StatefulSet",
                "spec/template/spec/volumes/persistentVolumeClaim/claimName",
            ),
            (
                "Deployment",
                "spec/template/spec/volumes/persistentVolumeClaim/claimName",
            ),
            (
                "ReplicationController",
                "spec/template/spec/volumes/persistentVolumeClaim/claimName",
            ),
            (
                "CronJob",
                "spec/jobTemplate/spec/template/spec/volumes/persistentVolumeClaim/claimName",
            ),
            (
                "Job",
                "spec/template/spec/volumes/persistentVolumeClaim/claimName",
            ),
            (
                "DaemonSet",
                "spec/template/spec/volumes/persistentVolumeClaim/claimName",
            ),
        ],
    },
    NameReference {
        target: "PersistentVolume::v1",
        referrers: &[
            ("PersistentVolumeClaim", "spec/volumeName"),
            ("ClusterRole", "rules/resourceNames"),
        ],
    },
    NameReference {
        target: "StorageClass:storage.k8s.io:v1",
        referrers: &[
            ("PersistentVolume", "spec/storageClassName"),
            ("PersistentVolumeClaim", "spec/storageClassName"),
            (
                "StatefulSet",
                "spec/volumeClaimTemplates/spec/storageClassName",
            ),
        ],
    },
    NameReference {
        target: "PriorityClass:scheduling.k8s.io:v1",
        referrers: &[
            ("Pod", "spec/priorityClassName"),
            ("StatefulSet", "spec/template/spec/priorityClassName"),
            ("Deployment", "spec/template/spec/priorityClassName"),
            (
                "ReplicationController",
                "spec/template/spec/priorityClassName",
            ),
            (
                "CronJob",
                "spec/jobTemplate/spec/template/spec/priorityClassName",
            ),
            ("Job", "spec/template/spec/priorityClassName"),
            ("DaemonSet", "spec/template/spec/priorityClassName"),
        ],
    },
    NameReference {
        target: "IngressClass:networking.k8s.io/v1:v1",
        referrers: &[("Ingress", "spec/ingressClassName")],
    },
    NameReference {
        target: "ValidatingAdmissionPolicy:admissionregistration.k8s.io",
        referrers: &[(
            "ValidatingAdmissionPolicyBinding:admissionregistration.k8s.io",
            "spec/policyName",
        )],
    },
];
