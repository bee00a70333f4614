import { Body, Controller, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@hangar/auth';
import type { User } from '@hangar/contracts';
import { Audited } from '../../common/audited.decorator';
import { ProblemDto, UserDto, UserListDto } from '../../common/response.dto';
import { CurrentPrincipal } from '../auth/auth.decorators';
import { CreateUserDto, UpdateUserDto } from './dto/user.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOkResponse({ type: UserListDto })
  async list(@CurrentPrincipal() principal: Principal): Promise<{ items: User[] }> {
    return { items: await this.users.list(principal) };
  }

  @Post()
  @Audited('user.create')
  @ApiCreatedResponse({ type: UserDto })
  create(@CurrentPrincipal() principal: Principal, @Body() body: CreateUserDto): Promise<User> {
    return this.users.create(principal, body);
  }

  @Get(':id')
  @ApiOkResponse({ type: UserDto })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<User> {
    return this.users.get(principal, id);
  }

  @Patch(':id')
  @Audited('user.update')
  @ApiOkResponse({ type: UserDto })
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: UpdateUserDto,
  ): Promise<User> {
    return this.users.update(principal, id, body);
  }
}
