'use strict';
/**
 * What a deployment needs (README, Deploying), as CloudFormation parameters whose values are
 * serverless.yml's params. A required param left empty gives its parameter no default, so
 * CloudFormation refuses the deployment, naming it, before it creates anything; `serverless
 * package` and `invoke local` still work offline without them.
 * Loaded by serverless.yml (`${file(resources/parameters.cjs)}`); returns CloudFormation.
 */
module.exports = async ({ resolveVariable }) => {
  const param = async (name) => String((await resolveVariable(`param:${name}`)) ?? '').trim();
  const required = (value) => (value === '' ? {} : { Default: value });
  return {
    Parameters: {
      AlertEmail: {
        Type: 'String',
        Description:
          'Who receives the alerts (param alertEmail: an e-mail subscription to the alerts topic, confirmed once)',
        AllowedPattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$',
        ConstraintDescription: 'must be an e-mail address',
        ...required(await param('alertEmail')),
      },
      DatabaseSubnetIds: {
        Type: 'List<AWS::EC2::Subnet::Id>',
        Description:
          "Subnets of the database's VPC with a route to the database and to Secrets Manager (param databaseSubnetIds)",
        ...required(await param('databaseSubnetIds')),
      },
      DatabaseSecurityGroupIds: {
        Type: 'List<AWS::EC2::SecurityGroup::Id>',
        Description: 'Security groups the database accepts connections from (param databaseSecurityGroupIds)',
        ...required(await param('databaseSecurityGroupIds')),
      },
    },
  };
};
