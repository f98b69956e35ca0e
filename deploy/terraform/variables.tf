variable "environment" {
  description = "Environment name: dev, staging or production."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "production"], var.environment)
    error_message = "environment must be dev, staging or production."
  }
}

variable "region" {
  description = "AWS region, e.g. eu-west-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; private and public subnets are carved from it."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be a CIDR block of /20 or larger."
  }
}

variable "availability_zones" {
  description = "Availability zones to spread subnets, nodes and databases over (at least two)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2
    error_message = "At least two availability zones are needed for the database and the cluster."
  }
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version."
  type        = string
  default     = "1.33"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must look like 1.33."
  }
}

variable "node_instance_types" {
  description = "Instance types of the managed node group."
  type        = list(string)
  default     = ["m7i.large"]
}

variable "node_count" {
  description = "Desired, minimum and maximum nodes of the managed node group."
  type        = object({ desired = number, min = number, max = number })
  default     = { desired = 3, min = 2, max = 6 }

  validation {
    condition     = var.node_count.min >= 1 && var.node_count.min <= var.node_count.desired && var.node_count.desired <= var.node_count.max
    error_message = "node_count needs 1 <= min <= desired <= max."
  }
}

variable "postgres_instance_class" {
  description = "RDS instance class of the PostgreSQL server."
  type        = string
  default     = "db.t4g.medium"

  validation {
    condition     = startswith(var.postgres_instance_class, "db.")
    error_message = "postgres_instance_class must be an RDS class such as db.t4g.medium."
  }
}

variable "postgres_storage_gb" {
  description = "Allocated storage of the PostgreSQL server, in GiB."
  type        = number
  default     = 50

  validation {
    condition     = var.postgres_storage_gb >= 20 && var.postgres_storage_gb <= 16384
    error_message = "postgres_storage_gb must be between 20 and 16384."
  }
}

variable "postgres_backup_retention_days" {
  description = "Days RDS keeps automated backups (point-in-time recovery)."
  type        = number
  default     = 7

  validation {
    condition     = var.postgres_backup_retention_days >= 1 && var.postgres_backup_retention_days <= 35
    error_message = "postgres_backup_retention_days must be between 1 and 35."
  }
}

variable "redis_node_type" {
  description = "ElastiCache node type of the Redis replication group."
  type        = string
  default     = "cache.t4g.small"

  validation {
    condition     = startswith(var.redis_node_type, "cache.")
    error_message = "redis_node_type must be an ElastiCache type such as cache.t4g.small."
  }
}
