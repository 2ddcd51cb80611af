{{- define "lib.annotations" -}}
annotations:
  lib/chart: {{ .Chart.Name | quote }}
{{- end -}}
