output "cluster_name" {
  description = "EKS cluster name, for `aws eks update-kubeconfig --name`."
  value       = module.cluster.name
}

output "postgres_endpoint" {
  description = "host:port of the PostgreSQL server."
  value       = module.postgres.endpoint
}

output "postgres_master_secret_arn" {
  description = "Secrets Manager ARN of the PostgreSQL master credentials (managed by RDS)."
  value       = module.postgres.master_secret_arn
}

output "redis_endpoint" {
  description = "host:port of the Redis primary endpoint (TLS)."
  value       = module.redis.endpoint
}

# The `global` values of the Helm charts that depend on this infrastructure: where PostgreSQL and
# Redis are, for the services' network policies. Connection URLs themselves stay in Secrets.
output "helm_values" {
  description = "YAML for `helm ... -f`: terraform output -raw helm_values > infra-values.yaml"
  value = yamlencode({
    global = {
      postgres = {
        port         = module.postgres.port
        networkPeers = [{ ipBlock = { cidr = var.vpc_cidr } }]
      }
      redis = {
        port         = module.redis.port
        networkPeers = [{ ipBlock = { cidr = var.vpc_cidr } }]
      }
    }
  })
}
